/// Substring search over Chinese (and any other) text without a tokenizer: text is indexed by
/// character bigrams, so a query of two or more characters is found through its bigrams and then
/// confirmed as a substring. 漏水 finds 楼栋墙体长期漏水 on either engine.
public enum SearchGrams {
    /// Lower-cased, full-width ASCII folded to half-width (ＡＢＣ１２ → abc12).
    public static func normalize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if (0xFF01...0xFF5E).contains(s.value), let half = Unicode.Scalar(s.value - 0xFEE0) {
                out.append(half)
            } else if s.value == 0x3000 {
                out.append(" ")
            } else {
                out.append(s)
            }
        }
        return String(out).lowercased()
    }

    /// Runs of characters between separators (spaces, punctuation, symbols).
    static func runs(_ normalized: String) -> [[Character]] {
        var runs: [[Character]] = []
        var current: [Character] = []
        for c in normalized {
            if c.isWhitespace || c.isPunctuation || c.isSymbol || c.isNewline {
                if !current.isEmpty { runs.append(current) }
                current = []
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// The grams to index for `text`: every bigram inside a run, and a run of one character as
    /// itself. (A one-character query has no bigram; it is matched by scanning.)
    public static func grams(of text: String) -> Set<String> {
        var grams = Set<String>()
        for run in runs(normalize(text)) {
            for i in run.indices.dropLast() { grams.insert(String(run[i]) + String(run[i + 1])) }
            if run.count == 1 { grams.insert(String(run[0])) }
        }
        return grams
    }

    /// A query's terms (each must occur), normalised; at most 8.
    public static func terms(of query: String) -> [String] {
        Array(runs(normalize(query)).map { String($0) }.prefix(8))
    }

    /// The gram to look a term of two or more characters up by: its first bigram.
    public static func lookupGram(of term: String) -> String {
        String(term.prefix(2))
    }
}
