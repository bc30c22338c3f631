import Foundation
import SWXMLHash
import ZIPFoundation

/// An element of a parsed XML document (SWXMLHash's, named so it cannot clash with FoundationXML's).
typealias XElement = XMLHashXMLElement

/// Reading parsed XML by local names: prefixes (`x:sheet`, `r:id`) are ignored, as the same part may be written with or without them.
extension XMLHashXMLElement {
    var localName: String { Self.local(name) }

    static func local(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }

    var elements: [XElement] { children.compactMap { $0 as? XElement } }

    func elements(_ local: String) -> [XElement] { elements.filter { $0.localName == local } }

    func first(_ local: String) -> XElement? { elements.first { $0.localName == local } }

    /// The first element with this local name at any depth below, in document order.
    func descendant(_ local: String) -> XElement? {
        for child in elements {
            if child.localName == local { return child }
            if let found = child.descendant(local) { return found }
        }
        return nil
    }

    /// Every element with this local name at any depth below, in document order.
    func descendants(_ local: String) -> [XElement] {
        var found: [XElement] = []
        for child in elements {
            if child.localName == local { found.append(child) }
            found += child.descendants(local)
        }
        return found
    }

    /// An attribute by its local name (`r:id` answers to "id" only when no unprefixed `id` exists).
    func attr(_ local: String) -> String? {
        if let plain = allAttributes[local] { return plain.text }
        return allAttributes.first { !$0.key.hasPrefix("xmlns") && Self.local($0.key) == local }?.value.text
    }

    /// The namespace URI declared on this element for its own prefix (or the default namespace).
    var namespaceURI: String? {
        if let colon = name.firstIndex(of: ":") { return allAttributes["xmlns:" + name[..<colon]]?.text }
        return allAttributes["xmlns"]?.text
    }
}

enum ParsedXML {
    /// The document element, or nil when the data is not well-formed XML.
    static func root(_ data: Data) -> XElement? {
        let parsed = XMLHash.config { $0.detectParsingErrors = true }.parse(data)
        if case .parsingError = parsed { return nil }
        return parsed.element?.children.compactMap { $0 as? XElement }.first
    }
}

/// Text for XML: escaped, and without the control characters XML 1.0 cannot hold.
func xmlEscape(_ text: String, attribute: Bool = false) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"" where attribute: out += "&quot;"
        case "\n" where attribute: out += "&#10;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        default:
            if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Text inside `<![CDATA[ … ]]>`, split where it holds the closing marker.
func cdata(_ text: String) -> String {
    "<![CDATA[" + xmlEscapeControls(text).replacingOccurrences(of: "]]>", with: "]]]]><![CDATA[>") + "]]>"
}

private func xmlEscapeControls(_ text: String) -> String {
    String(String.UnicodeScalarView(text.unicodeScalars.filter {
        $0.value >= 0x20 || $0 == "\t" || $0 == "\n" || $0 == "\r"
    }))
}

/// Zip parts in memory, with a size limit on every part read so a small file cannot unpack into gigabytes.
enum ZipParts {
    static let partLimit = 64 * 1024 * 1024

    static func open(_ data: Data) -> Archive? {
        guard data.count >= 22, data.starts(with: [0x50, 0x4B]) else { return nil }
        do { return try Archive(data: data, accessMode: .read, pathEncoding: nil) } catch { return nil }
    }

    /// A part by its path inside the zip (a leading "/" is ignored); nil when there is no such part.
    static func read(_ archive: Archive, _ path: String) throws(BankFileError) -> Data? {
        let path = normalise(path)
        guard let entry = archive[path] ?? archive.first(where: { $0.path.lowercased() == path.lowercased() }) else {
            return nil
        }
        guard entry.type == .file else { return nil }
        if entry.uncompressedSize > UInt64(partLimit) { throw .tooLarge(path) }
        var data = Data()
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                data.append(chunk)
                if data.count > partLimit { throw BankFileError.tooLarge(path) }
            }
        } catch let error as BankFileError {
            throw error
        } catch {
            throw .damaged(path)
        }
        return data
    }

    /// A path with "." and ".." resolved and no leading "/".
    static func normalise(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    /// `target` as seen from a part in folder `base` ("xl"); absolute targets start at the zip's root.
    static func resolve(_ target: String, from base: String) -> String {
        if target.hasPrefix("/") { return normalise(target) }
        return normalise(base.isEmpty ? target : base + "/" + target)
    }

    /// A zip of these parts, deflated, in the order given.
    static func write(_ parts: [(path: String, data: Data)]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        let stamp = Date(timeIntervalSince1970: 1_704_067_200)  // fixed, so the same bank gives the same bytes
        for part in parts {
            let data = part.data
            try archive.addEntry(
                with: part.path, type: .file, uncompressedSize: Int64(data.count), modificationDate: stamp,
                compressionMethod: .deflate
            ) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard let data = archive.data else { throw BankFileError.damaged("zip") }
        return data
    }
}
