/// Keeps tokens opaque: callers should not build them from ids.
private let tokenMask: UInt64 = 0x5a17_c3e9_0b4d_2f61

/// Paging: a page is ordered by id, and its opaque token is the last id it returned, so pages stay
/// stable while records are added or changed.
public struct PageRequest: Sendable, Equatable {
    /// Records per page (1…1000).
    public var size: Int
    /// Return records with ids above this.
    public var afterID: Int64

    /// Reads `page_size` (0 means 100) and `page_token`; INVALID_ARGUMENT for bad values.
    public init(size: Int32, token: String) throws {
        guard size >= 0 else { throw DomainError.invalid(field: "page_size", message: "must not be negative") }
        self.size = size == 0 ? 100 : min(Int(size), 1000)
        self.afterID = try Self.decode(token)
    }

    /// A request for ids above `afterID`.
    public init(size: Int, afterID: Int64) {
        self.size = size
        self.afterID = afterID
    }

    /// The token for the page after one ending at `lastID`.
    public static func token(after lastID: Int64) -> String {
        "p1" + String(UInt64(bitPattern: lastID) ^ tokenMask, radix: 36)
    }

    static func decode(_ token: String) throws -> Int64 {
        if token.isEmpty { return 0 }
        guard token.hasPrefix("p1"), let raw = UInt64(token.dropFirst(2), radix: 36),
              case let id = Int64(bitPattern: raw ^ tokenMask), id >= 0 else {
            throw DomainError.invalid(field: "page_token", message: "not a token this service issued")
        }
        return id
    }
}

/// One page of records.
public struct Page<Element: Sendable>: Sendable {
    /// The records, by id.
    public var items: [Element]
    /// The token for the next page; empty on the last.
    public var nextToken: String
    /// How many records match over all pages.
    public var total: Int
    /// Set when counting stopped early: at least `total` match.
    public var totalCapped: Bool

    /// A page.
    public init(items: [Element], nextToken: String, total: Int, totalCapped: Bool = false) {
        self.items = items
        self.nextToken = nextToken
        self.total = total
        self.totalCapped = totalCapped
    }

    /// A page whose total was counted short of what it shows (counting stopped at a cap, or at a
    /// window the page's own walk went past) says at least what it shows, when it is the first:
    /// a later page's matches are not all counted from the start.
    mutating func coverShown(firstPage: Bool) {
        if firstPage && total < items.count { (total, totalCapped) = (items.count, true) }
    }
}
