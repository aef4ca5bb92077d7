import ArgumentParser

/// The `xieshang` command: run services, the gateway and operator tools.
@main
struct Xieshang: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xieshang",
        abstract: "Xieshang (协商): consultation, proposals and duty-performance services for CPPCC committees.",
        subcommands: [UpCommand.self, ServeCommand.self, CallCommand.self, HealthCommand.self, PolicyCommand.self, SeedCommand.self, InteropServerCommand.self, InteropClientCommand.self]
    )
}
