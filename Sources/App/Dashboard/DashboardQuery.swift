import Foundation

/// A query string of the dashboard's links: the present values, each percent-encoded.
enum DashboardQuery {
    /// RFC 3986's unreserved characters, ASCII only: everything else is percent-encoded.
    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ pairs: [(String, String?)]) -> String {
        return pairs.compactMap { name, value in
            value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "")" }
        }.joined(separator: "&")
    }
}
