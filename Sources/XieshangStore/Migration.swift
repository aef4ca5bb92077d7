/// One versioned schema change. `script` is SQL both engines accept, with `{{ID}}` and `{{BLOB}}`
/// standing for the spellings they disagree on (see ``SQLDialect/expand(_:)``).
public struct Migration: Sendable {
    /// Position in the component's sequence, from 1; never reused.
    public var version: Int
    /// What it does, for the migrations table and logs.
    public var name: String
    /// The statements.
    public var script: String

    /// A migration.
    public init(version: Int, name: String, script: String) {
        self.version = version
        self.name = name
        self.script = script
    }
}
