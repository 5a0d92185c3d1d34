extension AppDatabase {
    /// A platform company (QuickBooks realm, Xero organisation, Sage business) is connected to at most one active
    /// integration across all tenants, so a webhook names exactly one integration or none (issue 11, item 6).
    ///
    /// `integration_configs.remote_tenant_id` holds the company the integration's credentials connect (copied from
    /// `integration_credentials`, where the credentials keep it), unique per platform among integrations that are not
    /// disabled: disabling or deleting one releases its company. Where an existing database already has a company
    /// connected to several active integrations, the oldest keeps it and the others are left without one (their
    /// webhooks were routed to the oldest already); connecting them again is refused until that is settled.
    static let oneIntegrationPerRemoteTenant = """
        ALTER TABLE integration_configs ADD COLUMN remote_tenant_id TEXT;
        UPDATE integration_configs SET remote_tenant_id = (
            SELECT c.remote_tenant_id FROM integration_credentials c WHERE c.integration_id = integration_configs.id);
        UPDATE integration_configs SET remote_tenant_id = NULL
        WHERE status <> 'disabled' AND remote_tenant_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM integration_configs older
            WHERE older.platform = integration_configs.platform
                AND older.remote_tenant_id = integration_configs.remote_tenant_id
                AND older.status <> 'disabled' AND older.rowid < integration_configs.rowid);
        CREATE UNIQUE INDEX integration_configs_remote_tenant ON integration_configs(platform, remote_tenant_id)
            WHERE remote_tenant_id IS NOT NULL AND status <> 'disabled';
        """
}
