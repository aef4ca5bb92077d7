/// One call's translation between its ``WebDialect`` and what handlers speak (framed protobuf
/// messages and an ``RPCError``). Pure: the HTTP/2 and HTTP/1.1 connections both use it, so
/// every dialect behaves the same over either.
struct WebCodec {
    let dialect: WebDialect
    let path: String
    let transcoder: (any JSONTranscoder)?
    /// gRPC-Web text: base64 characters received and not yet decoded (a group of four is split
    /// across reads).
    private var pendingText: [UInt8] = []

    init(dialect: WebDialect, path: String, transcoder: (any JSONTranscoder)?) {
        self.dialect = dialect
        self.path = path
        self.transcoder = transcoder
    }

    // MARK: requests

    /// Request body bytes as received → the bytes the deframer reads (gRPC-Web text decoded).
    mutating func requestBytes(_ raw: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard case .grpcWeb(text: true) = dialect else { return Array(raw) }
        for c in raw where c != UInt8(ascii: "\r") && c != UInt8(ascii: "\n") { pendingText.append(c) }
        // Decode whole groups of four; a padded group ends a chunk and the next chunk starts fresh.
        var end = pendingText.count / 4 * 4
        if let pad = pendingText.firstIndex(of: UInt8(ascii: "=")) { end = min(end, (pad / 4 + 1) * 4) }
        guard end > 0 else { return [] }
        var out: [UInt8] = []
        var start = 0
        while start < end {
            // Split at each padded group so every piece is one base64 chunk.
            var stop = end
            if let pad = pendingText[start..<end].firstIndex(of: UInt8(ascii: "=")) { stop = min(end, (pad / 4 + 1) * 4) }
            guard let bytes = Base64.decode(Array(pendingText[start..<stop])) else {
                throw RPCError(.invalidArgument, "the gRPC-Web text body is not base64")
            }
            out += bytes
            start = stop
        }
        pendingText.removeFirst(end)
        return out
    }

    /// Whether base64 characters are left over at the end of the body (a truncated group).
    var textLeftOver: Bool { !pendingText.isEmpty }

    /// One request message as its handler takes it: protobuf bytes (JSON transcoded).
    func requestMessage(_ m: [UInt8]) throws -> [UInt8] {
        guard dialect.json, let transcoder else { return m }
        do {
            return try transcoder.request(path: path, json: m)
        } catch {
            throw RPCError.from(error)
        }
    }

    // MARK: responses

    /// A framed response message (5-byte prefix) as the dialect sends it in the body.
    func responseMessage(_ framed: [UInt8]) throws -> [UInt8] {
        switch dialect {
        case .grpc, .grpcWeb(text: false), .connectStream(json: false):
            return framed
        case .grpcWeb(text: true):
            return Base64.encode(framed, padded: true)
        case .connectStream(json: true):
            return try jsonEnvelopes(framed)
        case .connectUnary:
            return try unaryBody(framed)
        }
    }

    /// The end of an enveloped response body: gRPC-Web's trailer frame (flag 0x80) or Connect's
    /// end-of-stream envelope (flag 0x02) with the error and trailers as JSON.
    func endOfStream(error: RPCError?, trailing: Metadata) -> [UInt8] {
        let status = error ?? RPCError(.ok)
        switch dialect {
        case .grpcWeb(let text):
            var block: [UInt8] = Array("grpc-status: \(status.code.rawValue)\r\n".utf8)
            if !status.message.isEmpty { block += Array("grpc-message: ".utf8) + PercentEncoding.encode(status.message) + [13, 10] }
            for (k, v) in (trailing.wireHeaders() + status.metadata.wireHeaders()) { block += Array("\(k): ".utf8) + v + [13, 10] }
            let frame = Self.envelope(flags: 0x80, block)
            return text ? Base64.encode(frame, padded: true) : frame
        case .connectStream:
            var fields: [String] = []
            if status.code != .ok { fields.append("\"error\":\(Self.connectError(status))") }
            let all = trailing.entries + status.metadata.entries
            if !all.isEmpty { fields.append("\"metadata\":\(Self.metadataJSON(all))") }
            return Self.envelope(flags: 0x02, Array("{\(fields.joined(separator: ","))}".utf8))
        case .grpc, .connectUnary:
            return []
        }
    }

    /// A whole Connect unary response: HTTP status, headers after `content-type`, body.
    func unaryResponse(message framed: [UInt8]?, error: RPCError?, initial: Metadata, trailing: Metadata)
        -> (status: Int, contentType: String, headers: [(String, [UInt8])], body: [UInt8])
    {
        // Trailers travel as headers prefixed `trailer-` (the Connect protocol's unary shape).
        var headers = initial.wireHeaders()
        for (k, v) in trailing.wireHeaders() { headers.append(("trailer-\(k)", v)) }
        if error == nil, let framed {
            do {
                return (200, dialect.responseContentType, headers, try unaryBody(framed))
            } catch {
                return errorResponse(RPCError.from(error), headers: headers)
            }
        }
        let e = error ?? RPCError(.internal, "no response message")
        for (k, v) in e.metadata.wireHeaders() { headers.append(("trailer-\(k)", v)) }
        return errorResponse(e, headers: headers)
    }

    private func errorResponse(_ e: RPCError, headers: [(String, [UInt8])]) -> (status: Int, contentType: String, headers: [(String, [UInt8])], body: [UInt8]) {
        (WebDialect.connectHTTPStatus(e.code), "application/json", headers, Array(Self.connectError(e).utf8))
    }

    private func unaryBody(_ framed: [UInt8]) throws -> [UInt8] {
        let bare = Array(framed.dropFirst(5))
        guard dialect.json, let transcoder else { return bare }
        do { return try transcoder.response(path: path, proto: bare) } catch { throw RPCError(.internal, "response is not \(path)'s message: \(RPCError.from(error).message)") }
    }

    /// Framed messages (one or several, as a batch send hands them) as JSON envelopes.
    private func jsonEnvelopes(_ framed: [UInt8]) throws -> [UInt8] {
        guard let transcoder else { return framed }
        var out: [UInt8] = []
        var i = 0
        while i + 5 <= framed.count {
            let n = Int(framed[i + 1]) << 24 | Int(framed[i + 2]) << 16 | Int(framed[i + 3]) << 8 | Int(framed[i + 4])
            let json = try transcoder.response(path: path, proto: Array(framed[(i + 5)..<(i + 5 + n)]))
            out += Self.envelopePrefix(flags: 0, count: json.count) + json
            i += 5 + n
        }
        return out
    }

    // MARK: spelling

    static func envelopePrefix(flags: UInt8, count n: Int) -> [UInt8] {
        [flags, UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
    }

    static func envelope(flags: UInt8, _ body: [UInt8]) -> [UInt8] {
        envelopePrefix(flags: flags, count: body.count) + body
    }

    /// `{"code":"not_found","message":"…"}`.
    static func connectError(_ e: RPCError) -> String {
        var s = "{\"code\":\"\(WebDialect.connectCode(e.code))\""
        if !e.message.isEmpty { s += ",\"message\":\(jsonString(e.message))" }
        return s + "}"
    }

    /// Connect's metadata object: each key to its list of values (binary ones in base64).
    static func metadataJSON(_ entries: [(key: String, value: Metadata.Value)]) -> String {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for e in entries where !Metadata.isReserved(e.key) {
            if values[e.key] == nil { order.append(e.key) }
            switch e.value {
            case .string(let v): values[e.key, default: []].append(v)
            case .binary(let b): values[e.key, default: []].append(String(decoding: Base64.encode(b, padded: true), as: UTF8.self))
            }
        }
        let pairs = order.map { k in "\(jsonString(k)):[\(values[k]!.map(jsonString).joined(separator: ","))]" }
        return "{\(pairs.joined(separator: ","))}"
    }

    /// `s` as a JSON string literal.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
