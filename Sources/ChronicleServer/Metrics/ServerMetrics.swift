import Prometheus
import Synchronization

/// The server's Prometheus metrics, on a registry of its own (no global bootstrap), so
/// several servers in one process (as in tests) keep separate figures.
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry = PrometheusCollectorRegistry()

    /// Metric handles by label values: the registry's own lookup builds names and label
    /// arrays on every call, which showed in profiles at tens of thousands of requests/s.
    private let requestCounters = Mutex<[String: Counter]>([:])
    private let requestHistograms = Mutex<[String: DurationHistogram]>([:])
    private let appended: Counter
    private let appendDuration: DurationHistogram

    private var requestsDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by method, route and status.")
    }

    private var requestDurationDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request duration by method and route.")
    }

    private static var appendDuration: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "append_duration", unitName: "seconds", helpText: "Time to append (and durably commit) one request's events.")
    }

    private static var eventsAppended: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "events_appended", unitName: "total", helpText: "Events appended through this server.")
    }

    private static var subscribers: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "subscribers", unitName: "", helpText: "Connected subscribers by transport (sse, websocket).")
    }

    private static var connections: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "http_connections", unitName: "", helpText: "Open HTTP connections.")
    }

    private static var connectionCapReached: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "http_connection_cap_reached", unitName: "total", helpText: "Times the open connections reached maximumConnections (new ones then wait).")
    }

    private static var addressLimitRefused: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "http_connections_refused", unitName: "total", helpText: "Connections refused with a 429 because their address held maximumConnectionsPerAddress.")
    }

    private static var bodyTimeouts: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "http_request_body_timeouts", unitName: "total", helpText: "Requests answered 408 because their body did not arrive within requestBodyTimeoutSeconds.")
    }

    private var headDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "log_head_position", unitName: "", helpText: "Position of the last event in the log.")
    }

    private var storeSizeDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "store_size", unitName: "bytes", helpText: "Size of the store on disk.")
    }

    private static var reactorDescriptors: (checkpoint: MetricNameDescriptor, lag: MetricNameDescriptor, parked: MetricNameDescriptor) { (
        checkpoint: MetricNameDescriptor(namespace: "chronicle", metricName: "reactor_checkpoint_position", unitName: "", helpText: "Position of the last event a reactor is done with."),
        lag: MetricNameDescriptor(namespace: "chronicle", metricName: "reactor_lag_events", unitName: "", helpText: "Events in the log after a reactor's checkpoint."),
        parked: MetricNameDescriptor(namespace: "chronicle", metricName: "reactor_parked_events", unitName: "", helpText: "Events a reactor gave up on, waiting for retry or skip.")
    ) }

    private static var reactorCounters: (deliveries: MetricNameDescriptor, failures: MetricNameDescriptor, parked: MetricNameDescriptor, inFlight: MetricNameDescriptor, lagSeconds: MetricNameDescriptor) { (
        deliveries: MetricNameDescriptor(namespace: "chronicle", metricName: "reactor_deliveries", unitName: "total", helpText: "Events a reactor handled successfully on this node."),
        failures: MetricNameDescriptor(namespace: "chronicle", metricName: "reactor_failures", unitName: "total", helpText: "Failed delivery attempts of a reactor on this node (each failed retry counts)."),
        parked: MetricNameDescriptor(namespace: "chronicle", metricName: "reactor_parked", unitName: "total", helpText: "Events a reactor parked on this node."),
        inFlight: MetricNameDescriptor(namespace: "chronicle", metricName: "reactor_in_flight", unitName: "", helpText: "Deliveries of a reactor running now on this node."),
        lagSeconds: MetricNameDescriptor(namespace: "chronicle", metricName: "reactor_lag", unitName: "seconds", helpText: "Age of the oldest event after a reactor's checkpoint.")
    ) }

    /// Serialises scrapes: counters are set from the runners' counts (reset, then increment).
    private let reactorScrape = Mutex(())

    private static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]

    /// Creates the metrics and registers the gauges at zero.
    public init() {
        for transport in ["sse", "websocket"] {
            registry.makeGauge(descriptor: Self.subscribers, labels: [("transport", transport)]).set(to: 0)
        }
        appended = registry.makeCounter(descriptor: Self.eventsAppended)
        registry.makeGauge(descriptor: Self.connections).set(to: 0)
        _ = registry.makeCounter(descriptor: Self.connectionCapReached)
        _ = registry.makeCounter(descriptor: Self.addressLimitRefused)
        _ = registry.makeCounter(descriptor: Self.bodyTimeouts)
        appendDuration = registry.makeDurationHistogram(descriptor: Self.appendDuration, labels: [], buckets: Self.durationBuckets)
    }

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let routeKey = method + " " + route
        let counterKey = routeKey + " " + String(status)
        let counter = requestCounters.withLock { counters in
            if let counter = counters[counterKey] { return counter }
            let counter = registry.makeCounter(descriptor: requestsDescriptor, labels: [("method", method), ("route", route), ("status", String(status))])
            counters[counterKey] = counter
            return counter
        }
        counter.increment()
        let histogram = requestHistograms.withLock { histograms in
            if let histogram = histograms[routeKey] { return histogram }
            let histogram = registry.makeDurationHistogram(descriptor: requestDurationDescriptor, labels: [("method", method), ("route", route)], buckets: Self.durationBuckets)
            histograms[routeKey] = histogram
            return histogram
        }
        histogram.record(duration)
    }

    func recordAppend(events: Int, duration: Duration) {
        appended.increment(by: Int64(events))
        appendDuration.record(duration)
    }

    func subscriberConnected(_ transport: String) {
        registry.makeGauge(descriptor: Self.subscribers, labels: [("transport", transport)]).increment(by: 1)
    }

    func subscriberDisconnected(_ transport: String) {
        registry.makeGauge(descriptor: Self.subscribers, labels: [("transport", transport)]).decrement(by: 1)
    }

    func recordConnections(open: Int) {
        registry.makeGauge(descriptor: Self.connections).set(to: Double(open))
    }

    func recordConnectionCapReached() {
        registry.makeCounter(descriptor: Self.connectionCapReached).increment()
    }

    func recordConnectionRefusedForAddress() {
        registry.makeCounter(descriptor: Self.addressLimitRefused).increment()
    }

    func recordRequestBodyTimeout() {
        registry.makeCounter(descriptor: Self.bodyTimeouts).increment()
    }

    func recordStore(head: Int64, size: Int64?) {
        registry.makeGauge(descriptor: headDescriptor).set(to: Double(head))
        if let size {
            registry.makeGauge(descriptor: storeSizeDescriptor).set(to: Double(size))
        }
    }

    private static var residentMemory: MetricNameDescriptor {
        .init(namespace: "process", metricName: "resident_memory", unitName: "bytes", helpText: "Resident memory of the server process (VmRSS).")
    }

    private static var peakResidentMemory: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "process_peak_resident_memory", unitName: "bytes", helpText: "Peak resident memory of the server process since it started (VmHWM).")
    }

    /// The process's memory, where the system reports it (Linux).
    func recordProcess(_ memory: ProcessMemory?) {
        guard let memory else { return }
        registry.makeGauge(descriptor: Self.residentMemory).set(to: Double(memory.residentBytes))
        registry.makeGauge(descriptor: Self.peakResidentMemory).set(to: Double(memory.peakResidentBytes))
    }

    func recordReactor(_ report: ReactorReport) {
        let status = report.status
        let labels = [("reactor", status.name)]
        registry.makeGauge(descriptor: Self.reactorDescriptors.checkpoint, labels: labels).set(to: Double(status.checkpoint ?? 0))
        registry.makeGauge(descriptor: Self.reactorDescriptors.lag, labels: labels).set(to: Double(status.lag.events))
        registry.makeGauge(descriptor: Self.reactorDescriptors.parked, labels: labels).set(to: Double(status.parked))
        registry.makeGauge(descriptor: Self.reactorCounters.inFlight, labels: labels).set(to: Double(report.statistics.inFlight))
        registry.makeGauge(descriptor: Self.reactorCounters.lagSeconds, labels: labels).set(to: status.lag.seconds)
        reactorScrape.withLock { _ in
            for (descriptor, count) in [(Self.reactorCounters.deliveries, report.statistics.delivered), (Self.reactorCounters.failures, report.statistics.failures), (Self.reactorCounters.parked, report.statistics.parked)] {
                let counter = registry.makeCounter(descriptor: descriptor, labels: labels)
                counter.reset()
                counter.increment(by: Int64(count))
            }
        }
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] {
        var output: [UInt8] = []
        registry.emit(into: &output)
        return output
    }
}
