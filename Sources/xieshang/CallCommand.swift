#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import XieshangGateway
import XieshangRPC

/// `xieshang call`: call any method with JSON, through the gateway by default.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a method with a JSON request and print the JSON response (every method of protos/).",
        discussion: """
            METHOD is package.Service/Method or just Service/Method, e.g. IntakeService/ListItems. The request is JSON \
            in proto3's mapping (fields in lowerCamel or as in the .proto, enums by name, 64-bit integers as strings); \
            --data @FILE reads a file and --data - reads standard input. A streaming method prints one JSON object per \
            response. `xieshang call --list` lists every method. Exit status 1 on an error status, printed as CODE: message.
            """)

    @Argument(help: "The method, e.g. xieshang.gateway.v1.GatewayService/WhoAmI.")
    var method: String?

    @Option(help: "JSON request; @FILE to read a file; - for standard input.")
    var data: String = "{}"

    @Option(help: "host:port to call (env XIESHANG_GATEWAY, default 127.0.0.1:50060).")
    var address: String?

    @Option(help: "Bearer token (env XIESHANG_TOKEN); none for public calls and Login.")
    var token: String?

    @Option(help: "Committee id for a public call without a token (x-xieshang-committee).")
    var committee: Int64?

    @OptionGroup var tlsOptions: ClientTLSOptions

    @Option(help: "Seconds to wait.")
    var timeout: Double = 30

    @Flag(help: "List every method with its request and response types.")
    var list = false

    func run() async throws {
        let pool = DescriptorPool.shared
        if list {
            for service in pool.services.keys.sorted() {
                for m in pool.services[service]! {
                    let shape = m.serverStreaming ? " (stream)" : ""
                    print("\(service)/\(m.name)  \(m.input) → \(m.output)\(shape)")
                }
            }
            return
        }
        guard let method else { throw ValidationError("name a METHOD, or --list") }
        let m = try Self.resolve(method, in: pool)
        let env = ProcessInfo.processInfo.environment
        let raw = address ?? env["XIESHANG_GATEWAY"] ?? "127.0.0.1:50060"
        guard let target = BalancedChannel.parseTargets(raw)?.first else { throw ValidationError("address '\(raw)' is not host:port") }
        let codec = JSONCodec(pool: pool)
        let body: [UInt8]
        do { body = try codec.encode(json: try readData(), as: m.input) } catch let e as JSONCodec.Failure {
            throw ValidationError("request: \(e)")
        }
        var metadata = Metadata()
        if let t = token ?? env["XIESHANG_TOKEN"], !t.isEmpty { metadata.add("authorization", "Bearer \(t)") }
        if let committee { metadata.add("x-xieshang-committee", String(committee)) }
        let options = CallOptions(metadata: metadata, timeout: timeout)
        let channel = RPCChannel(host: target.host, port: target.port, configuration: try tlsOptions.channelConfiguration())
        let d = MethodDescriptor<RawMessage, RawMessage>(service: m.service, method: m.name, kind: m.kind)
        var failure: RPCError?
        do {
            if m.serverStreaming {
                let call = channel.serverStreaming(d, RawMessage(bytes: body), options: options)
                for try await r in call.responses { print(try codec.decode(r.bytes, as: m.output)) }
            } else if !m.clientStreaming {
                let r = try await channel.unary(d, RawMessage(bytes: body), options: options)
                print(try codec.decode(r.message.bytes, as: m.output))
            } else {
                throw ValidationError("\(method) streams requests; call it from a client library")
            }
        } catch let e as RPCError {
            failure = e
        }
        await channel.close()
        if let failure {
            FileHandle.standardError.write(Data("\(failure.code): \(failure.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func readData() throws -> String {
        if data == "-" { return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
        if data.hasPrefix("@") {
            let path = String(data.dropFirst())
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
            return text
        }
        return data
    }

    /// The method `name` names: a full path, or Service/Method when only one package has it.
    static func resolve(_ name: String, in pool: DescriptorPool) throws -> DescriptorPool.Method {
        let trimmed = name.hasPrefix("/") ? String(name.dropFirst()) : name
        let parts = trimmed.split(separator: "/").map(String.init)
        guard parts.count == 2 else { throw ValidationError("'\(name)' is not Service/Method") }
        let services = pool.services.keys.filter { $0 == parts[0] || $0.hasSuffix("." + parts[0]) }
        let found = services.compactMap { s in pool.services[s]?.first { $0.name == parts[1] } }
        guard found.count == 1 else {
            throw ValidationError(found.isEmpty ? "no method \(name) (see --list)" : "\(name) is ambiguous: \(found.map(\.path).joined(separator: ", "))")
        }
        return found[0]
    }
}
