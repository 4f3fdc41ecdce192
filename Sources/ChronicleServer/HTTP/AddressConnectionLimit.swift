import Logging
import Synchronization

/// Counts the open HTTP connections of each client address, so one address cannot hold more
/// than `maximum` of them (the server-wide ``ConnectionCap`` would otherwise let one client
/// take every connection from everyone else). Shared by every connection of one server.
///
/// The first refusal of an address is logged (once until that address is under its limit
/// again); every refusal is counted in `/metrics`.
final class AddressConnectionLimit: Sendable {
    let maximum: Int
    private let logger: Logger
    private let metrics: ServerMetrics
    private let state = Mutex(State())

    private struct State {
        var open: [String: Int] = [:]
        var refusing: Set<String> = []
    }

    init(maximum: Int, logger: Logger, metrics: ServerMetrics) {
        self.maximum = maximum
        self.logger = logger
        self.metrics = metrics
    }

    /// Counts a new connection of `address`, or refuses it (`false`) when the address holds
    /// its maximum already.
    func admit(_ address: String) -> Bool {
        let (admitted, firstRefusal) = state.withLock { state -> (Bool, Bool) in
            let open = state.open[address, default: 0]
            guard open < maximum else { return (false, state.refusing.insert(address).inserted) }
            state.open[address] = open + 1
            return (true, false)
        }
        if !admitted {
            metrics.recordConnectionRefusedForAddress()
            if firstRefusal {
                logger.warning("A client address holds its maximum of open connections; its new ones are refused with 429", metadata: ["chronicle.address": "\(address)", "chronicle.maximum-connections-per-address": "\(maximum)"])
            }
        }
        return admitted
    }

    /// Counts a connection of `address` closed.
    func release(_ address: String) {
        state.withLock { state in
            let open = state.open[address, default: 1] - 1
            state.open[address] = open > 0 ? open : nil
            if open < maximum { state.refusing.remove(address) }
        }
    }
}
