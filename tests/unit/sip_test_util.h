// SPDX-License-Identifier: GPL-2.0-or-later
// Builds sip::Message values for the transaction and dialog tests: SIP text (lines joined with CRLF)
// parsed by sip::parse(), then given a frame, time and flow as the wsglue reader would.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sipsleuth/core/sip/message.h"

namespace sipsleuth::core::sip::testing {

inline Endpoint ep(std::string address, std::uint16_t port) { return Endpoint{std::move(address), port}; }

inline FlowRef flow(Transport t, std::uint32_t stream, const Endpoint& src, const Endpoint& dst) {
    FlowRef f;
    f.transport = t;
    f.stream = stream;
    f.src = src;
    f.dst = dst;
    return f;
}

inline FlowRef reversed(const FlowRef& f) { return flow(f.transport, f.stream, f.dst, f.src); }

/// `text` with '\n' line ends made CRLF, a blank line appended, parsed; aborts the test when not SIP.
inline Message sip(std::string_view text, std::uint32_t frame, Nanos time, const FlowRef& via_flow,
                   std::uint32_t seq = 0) {
    std::string bytes;
    for (char c : text) {
        if (c == '\n') bytes += '\r';
        bytes += c;
    }
    bytes += "\r\n";
    Message m;
    EXPECT_NE(parse(bytes, m), ParseStatus::not_sip) << text;
    m.frame = frame;
    m.time = time;
    m.flow = via_flow;
    if (via_flow.transport == Transport::tcp) {
        m.seq_begin = seq;
        m.seq_end = seq + static_cast<std::uint32_t>(bytes.size());
    }
    return m;
}

}  // namespace sipsleuth::core::sip::testing
