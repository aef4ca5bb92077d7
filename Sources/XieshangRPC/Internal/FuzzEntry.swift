/// The receive path of a server stream without a socket: bytes through the deframer, each message
/// through `decode`. Used by the fuzz target (Fuzz/) and the fuzz regression test.
@_spi(Fuzzing)
public enum FuzzEntry {
    /// Feeds `data` in chunks whose sizes come from the data itself; returns how many messages decoded.
    @discardableResult
    public static func deframeAndDecode(
        _ data: [UInt8], maxMessageSize: Int = 1 << 16, decode: ([UInt8]) throws -> Void
    ) -> Int {
        var d = MessageDeframer(maxMessageSize: maxMessageSize)
        var decoded = 0
        var i = 0
        while i < data.count {
            let chunk = max(1, Int(data[i] % 17))
            let end = min(data.count, i + chunk)
            data[i..<end].withUnsafeBytes { d.append($0) }
            i = end
            loop: while true {
                switch d.next() {
                case .message(let m):
                    if (try? decode(m)) != nil { decoded += 1 }
                case .needMore, .tooLarge, .compressed:
                    break loop
                }
            }
        }
        return decoded
    }
}
