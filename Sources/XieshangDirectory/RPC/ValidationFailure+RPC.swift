import XieshangKit
import XieshangRPC

/// A rule the Domain folder checks is reported as the domain error it is: INVALID_ARGUMENT naming the field.
extension ValidationFailure: RPCErrorConvertible {
    public var rpcError: RPCError { DomainError.invalid(field: field, message: message).rpcError }
}
