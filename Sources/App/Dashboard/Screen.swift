import Persistence

/// One dashboard page as its template sees it: the layout's parts (title, navigation, who is signed in, the form
/// token) around `page`, the page's own values.
struct Screen: Sendable {
    /// The template that renders it (`Templates/<template>.mustache`), which fills the layout's blocks.
    var template: String
    var title: String
    var user: SignedInView?
    var navigation: [NavigationLink]
    /// A line saying what the last action did ("Saved: 3 jobs resumed"), shown once.
    var notice: String?
    /// The page's own values.
    var page: any Sendable

    init(
        _ template: String, title: String, section: NavigationLink.Section?, context: AppRequestContext,
        notice: String? = nil, page: any Sendable
    ) {
        self.template = template
        self.title = title
        self.user = context.signedIn.map { signedIn in
            SignedInView(
                name: signedIn.name, email: signedIn.email, role: signedIn.roleLabel, csrf: signedIn.csrfToken,
                canChange: (context.principal?.role ?? .viewer) >= .operator,
                isAdmin: context.principal?.role == .admin)
        }
        self.navigation =
            user == nil
            ? []
            : NavigationLink.Section.allCases.filter { $0.isShown(to: context.principal) }.map {
                NavigationLink($0, current: section)
            }
        self.notice = notice
        self.page = page
    }
}

/// The person signed in, as the layout shows them, and what the page may offer them.
struct SignedInView: Sendable {
    var name: String
    var email: String
    var role: String
    /// The form token every form carries (`_csrf`).
    var csrf: String
    /// Whether write controls are shown: finance managers and admins. The routes check again whatever is shown.
    var canChange: Bool
    var isAdmin: Bool
}

/// An entry of the main navigation.
struct NavigationLink: Sendable {
    enum Section: String, CaseIterable, Sendable {
        case overview, activity, records, conflicts, deliveries, audit, settings

        var label: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
        var path: String { self == .overview ? "/" : "/\(rawValue)" }

        /// Whether `principal` sees the link: every section is for everyone signed in (settings lists each person
        /// the sections they may open: the school's for everyone, the rest for admins).
        func isShown(to principal: Principal?) -> Bool { principal != nil }
    }

    var label: String
    var path: String
    var current: Bool

    init(_ section: Section, current: Section?) {
        self.label = section.label
        self.path = section.path
        self.current = section == current
    }
}

/// An option of a select, or a box of a group, as a template shows it: its value, its label, whether it is chosen.
struct Choice: Sendable {
    var value: String
    var label: String
    var chosen: Bool
}
