import Foundation

/// Whether a listen address reaches this machine only: the host is resolved (numeric
/// addresses as they are, names through the resolver), and every address it gives must be in
/// 127.0.0.0/8 or be ::1 (or an IPv4-mapped loopback). A name that does not resolve is not
/// loopback.
enum LoopbackCheck {
    static func resolvesToLoopbackOnly(_ host: String) -> Bool {
        let addresses = resolve(host)
        return !addresses.isEmpty && addresses.allSatisfy(isLoopback)
    }

    /// The addresses of `host`, as raw bytes (4 for IPv4, 16 for IPv6).
    static func resolve(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            if let address = info.pointee.ai_addr {
                switch info.pointee.ai_family {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                default:
                    addresses.append([])
                }
            }
            entry = info.pointee.ai_next
        }
        return addresses
    }

    /// 127.0.0.0/8, ::1, or ::ffff:127.x.y.z.
    static func isLoopback(_ address: [UInt8]) -> Bool {
        switch address.count {
        case 4:
            return address[0] == 127
        case 16:
            if address == [UInt8](repeating: 0, count: 15) + [1] { return true }
            return address[0..<10].allSatisfy { $0 == 0 } && address[10] == 0xff && address[11] == 0xff && address[12] == 127
        default:
            return false
        }
    }
}
