import XieshangKit

/// Names of a committee's reference records, both ways: CSV files name sectors, parties, towns …
/// by name, records hold ids.
public struct DirectoryNames: Sendable {
    /// One kind of reference: name → id and id → name.
    public struct Table: Sendable {
        public private(set) var ids: [String: Int64] = [:]
        public private(set) var names: [Int64: String] = [:]

        /// An empty table.
        public init() {}

        /// Adds a record under its name and any aliases (the first name wins on a clash).
        public mutating func add(id: Int64, name: String, aliases: [String] = []) {
            names[id] = name
            for n in [name] + aliases where ids[n] == nil { ids[n] = id }
        }

        /// The id for a name, if known.
        public func id(_ name: String) -> Int64? { ids[name.trimmedSpaces] }

        /// The name for an id ("" for 0 or unknown).
        public func name(_ id: Int64) -> String { names[id] ?? "" }
    }

    public var terms = Table()
    public var sectors = Table()
    public var parties = Table()
    public var specialCommittees = Table()
    public var towns = Table()
    public var stations = Table()
    public var units = Table()

    /// Empty tables.
    public init() {}
}
