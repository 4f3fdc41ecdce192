import HummingbirdCore
import Logging

/// Caps the open HTTP connections: at the cap the server stops accepting (new connections
/// wait in the kernel's queue) until one closes, so a flood of connections cannot take every
/// file descriptor. Reaching the cap is logged once per episode and counted in `/metrics`.
struct ConnectionCap: AvailableConnectionsDelegate {
    let maximum: Int
    let logger: Logger
    let metrics: ServerMetrics
    private var open = 0
    private var atCap = false

    init(maximum: Int, logger: Logger, metrics: ServerMetrics) {
        self.maximum = maximum
        self.logger = logger
        self.metrics = metrics
    }

    mutating func connectionOpened() {
        open += 1
        metrics.recordConnections(open: open)
        if open >= maximum && !atCap {
            atCap = true
            metrics.recordConnectionCapReached()
            logger.warning("The server holds its maximum of open connections; new ones wait until one closes", metadata: ["chronicle.connections": "\(open)", "chronicle.maximum-connections": "\(maximum)"])
        }
    }

    mutating func connectionClosed() {
        open -= 1
        metrics.recordConnections(open: open)
        if atCap && open < maximum {
            atCap = false
            logger.notice("The server accepts connections again", metadata: ["chronicle.connections": "\(open)"])
        }
    }

    func isAcceptingNewConnections() -> Bool {
        open < maximum
    }
}
