/// Receives what happens on one client stream; called on the connection's event loop,
/// `finished` exactly once.
protocol ClientStreamSink: AnyObject {
    func receivedHeaders(_ metadata: Metadata)
    /// Returns false when the message cannot be used (the call is then aborted with INTERNAL).
    func receivedMessage(_ bytes: [UInt8]) -> Bool
    func finished(_ status: RPCError, trailers: Metadata)
    /// Set by the connection when the stream is created, so a cancel can find it.
    var stream: ClientConnectionHandler.Stream? { get set }
    /// A cancel arrived before the stream existed.
    var cancelledEarly: Bool { get set }
}
