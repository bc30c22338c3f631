import ExamCore
import Foundation

/// A question found similar to the text asked about.
public struct DuplicateMatch: Codable, Sendable, Hashable {
    public var id: String
    /// Dice coefficient of the two texts' character bigrams, 0–1.
    public var similarity: Double
    public init(id: String, similarity: Double) {
        self.id = id
        self.similarity = similarity
    }
}

/// Two questions of the index that look like the same question (`first` comes before `second` in the index).
public struct DuplicatePair: Codable, Sendable, Hashable {
    public var first: String
    public var second: String
    public var similarity: Double
    public init(first: String, second: String, similarity: Double) {
        self.first = first
        self.second = second
        self.similarity = similarity
    }
}

/// Duplicate detection (试题查重): texts are normalised (full-width to half-width, lower case, no whitespace or
/// punctuation), cut into character bigrams, and compared by the Dice coefficient 2|A∩B| / (|A|+|B|), so near
/// duplicates (a character changed, other punctuation, options in another order) are found as well as exact ones.
///
/// Candidates come from an inverted index with prefix filtering: bigrams are ranked rarest first, and two texts can
/// only reach the threshold if they share one of the first few (rarest) bigrams of each, so only those are looked up;
/// candidates are then compared exactly. No pair of texts is compared unless it passes that filter.
public struct DuplicateIndex: Sendable {
    private let ids: [String]
    /// Each entry's bigrams as ranks (rarest first), sorted ascending: the prefix is the first few, and two entries
    /// are compared by merging.
    private let ranked: [[Int32]]
    /// Rank of each bigram seen in the index.
    private let rankOf: [UInt64: Int32]
    /// Entries holding each bigram, by rank.
    private let postings: [[Int32]]

    /// An index of texts; `normalised` when they already are (`normalised(_:)` applied, as the central office keeps
    /// each question's), which spares the costliest step.
    public init(_ entries: [(id: String, text: String)], normalised: Bool = false) {
        var tokenOf: [UInt64: Int32] = [:]
        var tokenShingles: [UInt64] = []
        var frequency: [Int32] = []
        var docs: [[Int32]] = []
        docs.reserveCapacity(entries.count)
        for entry in entries {
            var tokens: [Int32] = []
            for shingle in Self.shingles(normalised ? entry.text : Self.normalised(entry.text)) {
                if let token = tokenOf[shingle] {
                    tokens.append(token)
                    frequency[Int(token)] += 1
                } else {
                    let token = Int32(tokenShingles.count)
                    tokenOf[shingle] = token
                    tokenShingles.append(shingle)
                    frequency.append(1)
                    tokens.append(token)
                }
            }
            docs.append(tokens)
        }
        // Rank: rarest first; ties by the bigram itself so the order does not depend on the entries' order.
        let order = tokenShingles.indices.sorted {
            frequency[$0] != frequency[$1] ? frequency[$0] < frequency[$1] : tokenShingles[$0] < tokenShingles[$1]
        }
        var rankOfToken = [Int32](repeating: 0, count: order.count)
        for (rank, token) in order.enumerated() { rankOfToken[token] = Int32(rank) }
        var rankOf: [UInt64: Int32] = [:]
        rankOf.reserveCapacity(order.count)
        for (token, shingle) in tokenShingles.enumerated() { rankOf[shingle] = rankOfToken[token] }
        var postings = [[Int32]](repeating: [], count: order.count)
        var ranked: [[Int32]] = []
        ranked.reserveCapacity(docs.count)
        for (index, tokens) in docs.enumerated() {
            let ranks = tokens.map { rankOfToken[Int($0)] }.sorted()
            for rank in ranks { postings[Int(rank)].append(Int32(index)) }
            ranked.append(ranks)
        }
        self.ids = entries.map(\.id)
        self.ranked = ranked
        self.rankOf = rankOf
        self.postings = postings
    }

    /// An index of questions by `text(of:)`.
    public init(questions: [Question]) {
        self.init(questions.map { (id: $0.id.rawValue, text: Self.text(of: $0)) })
    }

    public var count: Int { ids.count }

    /// Entries of the index at least `threshold` similar to `text`, most similar first.
    public func matches(for text: String, threshold: Double = 0.8, excluding: String? = nil) -> [DuplicateMatch] {
        let shingles = Self.shingles(Self.normalised(text))
        guard !shingles.isEmpty else { return [] }
        let threshold = Self.clamped(threshold)
        var unknown = 0
        var ranks: [Int32] = []
        for shingle in shingles {
            if let rank = rankOf[shingle] { ranks.append(rank) } else { unknown += 1 }
        }
        ranks.sort()
        // Unseen bigrams are the rarest of all and come first in the prefix; they can match nothing.
        let probe = Self.prefixLength(shingles.count, threshold) - unknown
        guard probe > 0 else { return [] }
        var seen = Set<Int32>()
        var found: [DuplicateMatch] = []
        for rank in ranks.prefix(probe) {
            for doc in postings[Int(rank)] where seen.insert(doc).inserted {
                let id = ids[Int(doc)]
                if id == excluding { continue }
                let similarity = Self.dice(ranks, shingles.count, ranked[Int(doc)], ranked[Int(doc)].count)
                if similarity >= threshold - 1e-12 { found.append(DuplicateMatch(id: id, similarity: similarity)) }
            }
        }
        return found.sorted { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.id < $1.id }
    }

    /// Every pair of entries at least `threshold` similar, most similar first.
    public func pairs(threshold: Double = 0.8) -> [DuplicatePair] {
        let threshold = Self.clamped(threshold)
        // Only each entry's prefix goes into this index, built as the entries are visited.
        var prefixPostings = [[Int32]](repeating: [], count: postings.count)
        var stamp = [Int32](repeating: -1, count: ids.count)
        var candidates: [Int32] = []
        var found: [DuplicatePair] = []
        for x in ranked.indices {
            let ranks = ranked[x]
            guard !ranks.isEmpty else { continue }
            let prefix = ranks.prefix(Self.prefixLength(ranks.count, threshold))
            candidates.removeAll(keepingCapacity: true)
            for rank in prefix {
                for y in prefixPostings[Int(rank)] where stamp[Int(y)] != Int32(x) {
                    stamp[Int(y)] = Int32(x)
                    candidates.append(y)
                }
            }
            for y in candidates {
                let other = ranked[Int(y)]
                let small = min(other.count, ranks.count), large = max(other.count, ranks.count)
                // Size filter: Dice ≤ 2·small / (small + large).
                guard 2 * Double(small) / Double(small + large) >= threshold - 1e-12 else { continue }
                let similarity = Self.dice(other, other.count, ranks, ranks.count)
                if similarity >= threshold - 1e-12 {
                    found.append(DuplicatePair(first: ids[Int(y)], second: ids[x], similarity: similarity))
                }
            }
            for rank in prefix { prefixPostings[Int(rank)].append(Int32(x)) }
        }
        return found.sorted {
            if $0.similarity != $1.similarity { return $0.similarity > $1.similarity }
            return $0.first != $1.first ? $0.first < $1.first : $0.second < $1.second
        }
    }

    // MARK: Text

    /// The text a question is compared by: stem, option texts (sorted, so reordered options still match), flowchart
    /// steps, and for a case analysis its material and sub-questions.
    public static func text(of question: Question) -> String {
        var parts = [question.stem]
        switch question.content {
        case .singleChoice(let options, _), .multipleChoice(let options, _):
            parts += options.map { normalised($0.text) }.sorted()
        case .flowchart(let steps, _, _):
            parts += steps.map { normalised($0.text) }.sorted()
        case .caseAnalysis(let material, let subs):
            parts.append(material)
            parts += subs.map { text(of: $0) }
        default:
            break
        }
        return parts.joined(separator: " ")
    }

    /// Full-width to half-width (NFKC), lower case, without whitespace, punctuation (Chinese and ASCII) or
    /// control characters.
    public static func normalised(_ text: String) -> String {
        var kept = String.UnicodeScalarView()
        for scalar in text.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars where keeps(scalar) {
            kept.append(scalar)
        }
        return String(kept)
    }

    private static func keeps(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation, .spaceSeparator, .lineSeparator, .paragraphSeparator, .control,
            .format, .nonspacingMark, .enclosingMark:
            return false
        default:
            return true
        }
    }

    /// Distinct character bigrams of a normalised text (a one-character text is its own shingle).
    static func shingles(_ normalised: String) -> [UInt64] {
        let scalars = normalised.unicodeScalars.map { UInt64($0.value) }
        if scalars.count == 1 { return scalars }
        guard scalars.count > 1 else { return [] }
        var result = Set<UInt64>()
        result.reserveCapacity(scalars.count)
        for i in 1..<scalars.count { result.insert(scalars[i - 1] << 21 | scalars[i]) }
        return Array(result)
    }

    // MARK: Similarity

    private static func clamped(_ threshold: Double) -> Double { min(1, max(0.01, threshold)) }

    /// How many of the rarest bigrams of a text of `size` bigrams must be looked up so that no text at least
    /// `threshold` similar (Dice) is missed. Dice ≥ t means Jaccard ≥ t/(2−t), and then the two share at least
    /// ⌈J·size⌉ bigrams, so one of the first size − ⌈J·size⌉ + 1 in any fixed order.
    private static func prefixLength(_ size: Int, _ threshold: Double) -> Int {
        let jaccard = threshold / (2 - threshold)
        let overlap = Int((jaccard * Double(size) - 1e-9).rounded(.up))
        return min(size, max(1, size - overlap + 1))
    }

    /// Dice coefficient of two sorted rank lists.
    private static func dice(_ a: [Int32], _ sizeA: Int, _ b: [Int32], _ sizeB: Int) -> Double {
        var i = 0, j = 0, common = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                common += 1
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return 2 * Double(common) / Double(sizeA + sizeB)
    }
}
