#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import XieshangDirectory
import XieshangStore

/// `xieshang seed`: the demo prefecture, written straight to the directory's database.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Create the demo prefecture (黔南州 and eight county committees) in an empty directory.",
        discussion: "Deterministic: the same seed gives the same data. Does nothing when committees exist.")

    @OptionGroup var options: ServiceOptions

    @Option(help: "Random seed.")
    var seed: UInt64 = 2026

    func run() async throws {
        let database = try Database(configuration: options.database(service: "directory"))
        let store = DirectoryStore(database: database)
        try await store.migrate()
        let secrets = Secrets(strength: try options.secretsStrength())
        var demo = DemoDirectory(store: store, secrets: secrets)
        demo.seed = seed
        let summary = try await demo.generate(progress: Self.progress)
        Self.report(summary)
        await database.close()
        await secrets.shutdown()
    }

    /// Prints one line of seeding progress at once.
    @Sendable static func progress(_ line: String) {
        print("seed: \(line)")
        fflush(stdout)
    }

    static func report(_ s: DemoDirectory.Summary) {
        if s.existed {
            print("seed: the directory already has committees; nothing created")
            return
        }
        print("seed: \(s.committees.count) committees, \(s.members) members, \(s.accounts.count) accounts (password: \(s.password))")
        if let token = s.adminToken { print("seed: prefecture admin API token: \(token)") }
        fflush(stdout)
    }
}
