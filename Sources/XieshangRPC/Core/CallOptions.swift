/// Per-call settings for a client call.
public struct CallOptions: Sendable {
    /// Metadata sent with the request headers.
    public var metadata: Metadata
    /// When the call must end; a server handler's own deadline applies too when calling onwards.
    public var deadline: Deadline?

    /// Options with optional metadata, deadline and timeout (the earlier of the two wins).
    public init(metadata: Metadata = Metadata(), deadline: Deadline? = nil, timeout: Double? = nil) {
        self.metadata = metadata
        var d = deadline
        if let timeout {
            let t = Deadline.after(seconds: timeout)
            d = d.map { min($0, t) } ?? t
        }
        self.deadline = d
    }

    /// The deadline to send: this call's, or the enclosing server call's when that is earlier.
    var effectiveDeadline: Deadline? {
        let inherited = ServerContext.current?.deadline
        switch (deadline, inherited) {
        case let (a?, b?): return min(a, b)
        case let (a?, nil): return a
        case let (nil, b?): return b
        default: return nil
        }
    }
}
