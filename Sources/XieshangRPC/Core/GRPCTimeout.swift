/// The `grpc-timeout` header: up to 8 digits and a unit (H M S m u n).
enum GRPCTimeout {
    /// Parses a header value into nanoseconds; nil when malformed.
    static func parse(_ v: [UInt8]) -> Int64? {
        guard v.count >= 2, v.count <= 9 else { return nil }
        var n: Int64 = 0
        for c in v.dropLast() {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            n = n * 10 + Int64(c - 0x30)
        }
        let unit: Int64
        switch v.last! {
        case UInt8(ascii: "H"): unit = 3_600_000_000_000
        case UInt8(ascii: "M"): unit = 60_000_000_000
        case UInt8(ascii: "S"): unit = 1_000_000_000
        case UInt8(ascii: "m"): unit = 1_000_000
        case UInt8(ascii: "u"): unit = 1_000
        case UInt8(ascii: "n"): unit = 1
        default: return nil
        }
        let (r, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? Int64.max : r
    }

    /// Formats nanoseconds with the finest unit that fits in 8 digits.
    static func format(nanoseconds ns: Int64) -> String {
        let ns = max(ns, 1)
        for (unit, div) in [("n", Int64(1)), ("u", 1_000), ("m", 1_000_000), ("S", 1_000_000_000), ("M", 60_000_000_000), ("H", 3_600_000_000_000)] {
            let v = (ns + div - 1) / div
            if v < 100_000_000 { return "\(v)\(unit)" }
        }
        return "99999999H"
    }
}
