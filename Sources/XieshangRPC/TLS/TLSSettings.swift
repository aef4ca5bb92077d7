import NIOSSL

/// TLS for a server's port: a PEM certificate chain and its private key. ALPN offers `h2`, and
/// `http/1.1` too where the server speaks to browsers (``ServerConfiguration/web``).
public struct ServerTLS: Sendable {
    public var certificateChainFile: String
    public var privateKeyFile: String

    public init(certificateChainFile: String, privateKeyFile: String) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }

    /// The context every connection's handshake uses; a clear error when the files do not load.
    func makeContext(http1: Bool) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateChainFile)
        } catch {
            throw RPCError(.invalidArgument, "TLS certificate \(certificateChainFile) does not load as PEM: \(error)")
        }
        guard !chain.isEmpty else { throw RPCError(.invalidArgument, "TLS certificate \(certificateChainFile) holds no certificate") }
        do {
            key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        } catch {
            throw RPCError(.invalidArgument, "TLS key \(privateKeyFile) does not load as a PEM private key: \(error)")
        }
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        config.minimumTLSVersion = .tlsv12
        config.applicationProtocols = http1 ? ["h2", "http/1.1"] : ["h2"]
        do {
            return try NIOSSLContext(configuration: config)
        } catch {
            throw RPCError(.invalidArgument, "TLS certificate and key do not make a server context (does the key match?): \(error)")
        }
    }
}

/// TLS for a client's connections: whom to trust (a PEM bundle, or the system's roots) and the
/// name the server's certificate must carry (the target's host by default).
public struct ClientTLS: Sendable {
    public var trustRootsFile: String?
    public var serverHostname: String?

    public init(trustRootsFile: String? = nil, serverHostname: String? = nil) {
        self.trustRootsFile = trustRootsFile
        self.serverHostname = serverHostname
    }

    func makeContext() throws -> NIOSSLContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        config.applicationProtocols = ["h2"]
        if let file = trustRootsFile {
            do {
                config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
            } catch {
                throw RPCError(.invalidArgument, "TLS trust roots \(file) do not load as PEM: \(error)")
            }
        }
        return try NIOSSLContext(configuration: config)
    }
}
