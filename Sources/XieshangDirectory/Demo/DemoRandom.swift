import XieshangKit

/// SplitMix64: a small, fast generator whose output depends only on its seed, so the demo data is
/// the same on every machine and every run.
struct DemoRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }

    /// Picks by weight.
    mutating func weighted<T>(_ items: [(T, Int)]) -> T {
        var n = Int.random(in: 0..<items.reduce(0) { $0 + $1.1 }, using: &self)
        for (item, w) in items {
            if n < w { return item }
            n -= w
        }
        return items[items.count - 1].0
    }

    /// `count` distinct items in a shuffled order.
    mutating func sample<T>(_ items: [T], _ count: Int) -> [T] {
        Array(items.shuffled(using: &self).prefix(count))
    }
}
