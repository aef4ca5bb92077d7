import XieshangRPC

/// JSON for the browser dialects (Connect's `application/json` and `application/connect+json`),
/// by the same schema and mapping `xieshang call` uses. A request that does not fit its message
/// is INVALID_ARGUMENT naming the field (`member.name: expected a string`).
public struct GatewayTranscoder: JSONTranscoder {
    public let codec: JSONCodec

    public init(pool: DescriptorPool = .shared) { codec = JSONCodec(pool: pool) }

    public func request(path: String, json: [UInt8]) throws -> [UInt8] {
        guard let m = codec.pool.method(path: path) else { throw RPCError(.unimplemented, "no schema for \(path)") }
        guard let text = String(validating: json, as: UTF8.self) else { throw RPCError(.invalidArgument, "the request is not UTF-8") }
        do {
            return try codec.encode(json: text, as: m.input)
        } catch let f as JSONCodec.Failure {
            throw RPCError(.invalidArgument, f.description)
        }
    }

    public func response(path: String, proto: [UInt8]) throws -> [UInt8] {
        guard let m = codec.pool.method(path: path) else { throw RPCError(.internal, "no schema for \(path)") }
        return try codec.compactJSON(proto, as: m.output)
    }
}
