import XieshangKit

/// The demo's generator: seeded, so the demo data is the same on every machine and every run.
typealias DemoRandom = SplitMix64

extension SplitMix64 {

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
