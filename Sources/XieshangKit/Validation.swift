import XieshangRPC

/// Checks and tidies records before they are stored: names trimmed and required, enums known,
/// dates well-formed. Pure: references to other records are checked by the store.
public protocol Validatable {
    /// The record, tidied; or the first field at fault.
    func validated() throws -> Self
}

public enum Check {
    /// Trims `value`; throws when empty (if required), longer than `max` characters, or holding
    /// control characters (line breaks are allowed in `multiline` text).
    public static func text(_ value: String, _ field: String, required: Bool = true, max: Int = 200,
                            multiline: Bool = false) throws -> String {
        let t = value.trimmedSpaces
        if required && t.isEmpty { throw ValidationFailure(field: field, message: "required") }
        if t.count > max { throw ValidationFailure(field: field, message: "longer than \(max) characters") }
        if t.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" && !(multiline && ($0 == "\n" || $0 == "\r")) }) {
            throw ValidationFailure(field: field, message: "contains control characters")
        }
        return t
    }

    /// Free text that may run over lines (opinions, replies, reports), at most `max` characters.
    public static func longText(_ value: String, _ field: String, required: Bool = true, max: Int) throws -> String {
        try text(value, field, required: required, max: max, multiline: true)
    }

    /// The date `value` names (YYYY-MM-DD), or `fallback` when it is empty.
    public static func day(_ value: String, _ field: String, or fallback: CivilDate) throws -> CivilDate {
        value.isEmpty ? fallback : CivilDate(try date(value, field))!
    }

    public static func date(_ value: String, _ field: String) throws -> String {
        if value.isEmpty { return value }
        guard let d = CivilDate(value) else { throw ValidationFailure(field: field, message: "'\(value)' is not a YYYY-MM-DD date") }
        return d.description
    }

    public static func known<E: ProtoEnum>(_ value: E, _ field: String, required: Bool = true) throws {
        guard value.isKnown else { throw ValidationFailure(field: field, message: "unknown value \(value.rawValue)") }
        if required && value == E() { throw ValidationFailure(field: field, message: "required") }
    }

    public static func id(_ value: Int64, _ field: String, required: Bool = false) throws {
        if value < 0 { throw ValidationFailure(field: field, message: "must not be negative") }
        if required && value == 0 { throw ValidationFailure(field: field, message: "required") }
    }

    public static func phone(_ value: String, _ field: String) throws -> String {
        let t = value.trimmedSpaces
        if t.isEmpty { return t }
        guard t.count <= 32, t.allSatisfy({ $0.isASCII && ($0.isNumber || "+- ()".contains($0)) }) else {
            throw ValidationFailure(field: field, message: "'\(t)' is not a phone number")
        }
        return t
    }
}

extension String {
    /// Without leading and trailing whitespace (ASCII and the ideographic space U+3000).
    public var trimmedSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// A field that failed validation, with the reason (mapped to INVALID_ARGUMENT by the service).
public struct ValidationFailure: Error, Equatable, Sendable {
    /// The field, as named in the proto (snake_case, with an index for repeated fields).
    public var field: String
    /// Why.
    public var message: String

    /// A failure.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// A rule the Domain folder checks is reported as the domain error it is: INVALID_ARGUMENT naming the field.
extension ValidationFailure: RPCErrorConvertible {
    public var rpcError: RPCError { DomainError.invalid(field: field, message: message).rpcError }
}
