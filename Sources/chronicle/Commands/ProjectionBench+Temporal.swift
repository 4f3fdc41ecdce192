import Foundation

extension ProjectionBench.TemporalReads {
    private static func ms(_ duration: Duration) -> String { Bench.milliseconds(duration) }

    private func ratio(_ asOf: [Duration], _ current: [Duration]) -> String? {
        let base = current.percentile(0.5).seconds
        return base > 0 ? String(format: "%.2f", asOf.percentile(0.5).seconds / base) : nil
    }

    private var rows: [(name: String, samples: [Duration], base: [Duration])] {
        [
            ("get now", currentGet, currentGet), ("get as of the head", asOfGetHead, currentGet), ("get as of the middle", asOfGetMiddle, currentGet),
            ("list of 50 now", currentList, currentList), ("list of 50 as of the head", asOfListHead, currentList), ("list of 50 as of the middle", asOfListMiddle, currentList),
        ]
    }

    /// The text lines of `bench --projections`.
    var lines: [String] {
        var lines = rows.map { row in
            "  \(row.name): p50 \(Self.ms(row.samples.percentile(0.5))) ms, p99 \(Self.ms(row.samples.percentile(0.99))) ms (\(ratio(row.samples, row.base) ?? "n/a")× the current read's p50)"
        }
        let events = Double(max(1, events))
        lines.append(String(format: "  storage per event: %.0f B without the temporal table, %.0f B with it (the temporal table: %.0f B per event)",
                            Double(otherBytes) / events, Double(otherBytes + temporalBytes) / events, Double(temporalBytes) / events))
        return lines
    }

    /// The `asOfRead` member of `bench --projections --json`.
    var json: String {
        let reads = rows.map { row in
            "{\"name\":\"\(row.name)\",\"p50Milliseconds\":\(Self.ms(row.samples.percentile(0.5))),\"p99Milliseconds\":\(Self.ms(row.samples.percentile(0.99))),\"ratioToCurrent\":\(ratio(row.samples, row.base) ?? "null")}"
        }
        let events = Double(max(1, events))
        return "\"asOfRead\":{\"reads\":[\(reads.joined(separator: ","))],\"bytesPerEventWithoutTemporal\":\(Int(Double(otherBytes) / events)),\"bytesPerEventWithTemporal\":\(Int(Double(otherBytes + temporalBytes) / events))}"
    }
}
