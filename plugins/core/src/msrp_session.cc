// SPDX-License-Identifier: GPL-2.0-or-later
// See msrp_session.h. RFC 4975 section 7 (message format), 7.1.1 (Byte-Range), 7.1.2 (responses:
// none when Failure-Report is "no"), 5.4 (binding: the first SEND on a connection binds it to the
// session). Transaction ids are unique per sender and connection, so a transaction is keyed by TCP
// stream, sending side and id; a splicing relay that copies a SEND to another connection makes a
// second transaction, reported on its own connection.
#include "sipsleuth/core/msrp_session.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <unordered_set>

namespace sipsleuth::core {

namespace {

bool is_ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == '%' || c == '=';
}

std::string printable(std::string_view s, std::size_t max = 64) {
    return sanitize_utf8(s.substr(0, max)) + (s.size() > max ? "..." : "");
}

// A duration in seconds with three decimals, rounded to the millisecond (half away from zero).
std::string seconds_text(Nanos d) {
    const bool negative = d < 0;
    const Nanos ms = ((negative ? -d : d) + kMilli / 2) / kMilli;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%lld.%03lld", negative ? "-" : "", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000));
    return buf;
}

// A preference's duration as written: whole seconds, else seconds with the digits needed.
std::string whole_seconds(Nanos d) {
    char buf[48];
    if (d % kSecond == 0) {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d / kSecond));
    } else {
        std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(d / kSecond),
                      static_cast<long long>(d % kSecond));
        std::size_t n = std::strlen(buf);
        while (buf[n - 1] == '0') buf[--n] = '\0';
    }
    return buf;
}

// A transaction id in a message: RFC 4975 allows 32 characters; a longer (invalid) one is cut.
std::string tid_text(const std::string& tid) { return printable(tid, 32); }

// What a consequence says of its cause (the caused_by field links to the frame).
std::string caused_by_text(std::uint32_t cause) {
    return cause ? "; caused by both ends active (frame " + std::to_string(cause) + ")" : std::string();
}

std::string times(std::uint32_t n) { return std::to_string(n) + (n == 1 ? " time" : " times"); }

std::optional<MsrpByteRange> parse_byte_range(std::string_view v) {
    const std::size_t dash = v.find('-'), slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return std::nullopt;
    MsrpByteRange r;
    const auto start = parse_decimal(v.substr(0, dash), UINT64_MAX / 2);
    if (!start || *start == 0) return std::nullopt;
    r.start = *start;
    const std::string_view end = v.substr(dash + 1, slash - dash - 1), total = v.substr(slash + 1);
    if (end != "*") {
        r.end = parse_decimal(end, UINT64_MAX / 2);
        if (!r.end || *r.end + 1 < r.start) return std::nullopt;
    }
    if (total != "*") {
        r.total = parse_decimal(total, UINT64_MAX / 2);
        if (!r.total || (r.end && *r.end > *r.total)) return std::nullopt;
    }
    return r;
}

}  // namespace

MsrpMessage parse_msrp_message(std::string_view bytes, const MsrpLimits& limits) {
    MsrpMessage m;
    if (bytes.size() > limits.max_bytes) bytes = bytes.substr(0, limits.max_bytes);
    auto line_at = [&](std::size_t pos, std::size_t* next) {
        std::size_t end = bytes.find('\n', pos);
        if (end == std::string_view::npos) {
            *next = bytes.size();
            return bytes.substr(pos);
        }
        *next = end + 1;
        std::size_t len = end - pos;
        if (len && bytes[pos + len - 1] == '\r') --len;
        return bytes.substr(pos, len);
    };
    std::size_t pos = 0;
    const std::string_view first = line_at(0, &pos);
    if (first.size() < 5 || first.substr(0, 5) != "MSRP ") return m;
    m.start_line = {0, first.size()};
    const std::size_t tid_at = 5;
    const std::size_t sp = first.find(' ', tid_at);
    if (sp == std::string_view::npos || sp == tid_at) {
        m.problems.push_back({MsrpProblemKind::bad_start_line, m.start_line,
                              "MSRP start line without transaction id and method: \"" + printable(first) + "\""});
        m.length = bytes.size();
        return m;
    }
    m.valid = true;
    const std::string_view tid = first.substr(tid_at, sp - tid_at);
    m.transaction_id = printable(tid, 64);
    m.transaction_id_span = {tid_at, tid.size()};
    const bool tid_ok = tid.size() >= 4 && tid.size() <= 32 && std::isalnum(static_cast<unsigned char>(tid[0])) &&
                        std::all_of(tid.begin(), tid.end(), is_ident_char);
    if (!tid_ok)
        m.problems.push_back(
            {MsrpProblemKind::bad_start_line, m.transaction_id_span,
             "Transaction id \"" + printable(tid) + "\" is not 4 to 32 letters, digits or .-+%= (RFC 4975 section 9)"});
    const std::string_view third = first.substr(sp + 1);
    const std::string_view token = third.substr(0, third.find(' '));
    if (token.size() == 3 && std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        m.is_response = true;
        m.status = static_cast<std::uint16_t>(*parse_decimal(token));
        if (token.size() < third.size()) m.reason = printable(third.substr(4), 128);
    } else if (!token.empty() && std::all_of(token.begin(), token.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
        m.method = std::string(token.substr(0, 32));
    } else {
        m.problems.push_back(
            {MsrpProblemKind::bad_start_line,
             {sp + 1, third.size()},
             "\"" + printable(token) + "\" is neither a method (upper-case letters) nor a status code"});
        m.method = printable(token, 32);
    }

    // Headers, up to the blank line before a body or the end-line.
    const std::string end_marker = "-------" + std::string(tid);
    std::size_t headers = 0;
    bool body_follows = false, at_end_line = false;
    while (pos < bytes.size()) {
        std::size_t next;
        const std::string_view line = line_at(pos, &next);
        const Span line_span{pos, line.size()};
        if (line.empty()) {
            body_follows = true;
            pos = next;
            break;
        }
        if (line.substr(0, 7) == "-------") {
            at_end_line = true;
            break;
        }
        if (++headers > limits.max_headers) {
            m.problems.push_back(
                {MsrpProblemKind::too_many_headers, line_span,
                 "More than " + std::to_string(limits.max_headers) + " header lines: the rest is not decoded"});
            break;
        }
        pos = next;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            m.problems.push_back({MsrpProblemKind::bad_header, line_span,
                                  "Header line without a name and colon: \"" + printable(line) + "\""});
            continue;
        }
        const std::string_view name = line.substr(0, colon);
        const std::size_t value_at =
            line_span.offset + colon + 1 + (line.size() > colon + 1 && line[colon + 1] == ' ' ? 1 : 0);
        const std::string_view value = trim(line.substr(colon + 1));
        const Span value_span{value_at, value.size()};
        if (iequals(name, "To-Path") || iequals(name, "From-Path")) {
            const bool to = iequals(name, "To-Path");
            std::optional<Span> bad;
            std::vector<MsrpUri> path = parse_msrp_path(value, &bad);
            for (MsrpUri& u : path) u.span.offset += value_at;
            if (bad || path.empty())
                m.problems.push_back({MsrpProblemKind::bad_path, value_span,
                                      std::string(to ? "To-Path" : "From-Path") + " \"" + printable(value) +
                                          "\" is not a list of MSRP URIs"});
            (to ? m.to_path : m.from_path) = std::move(path);
            (to ? m.to_path_span : m.from_path_span) = value_span;
        } else if (iequals(name, "Message-ID")) {
            m.message_id = printable(value, 64);
            m.message_id_span = value_span;
        } else if (iequals(name, "Byte-Range")) {
            m.byte_range = parse_byte_range(value);
            m.byte_range_span = value_span;
            if (!m.byte_range)
                m.problems.push_back(
                    {MsrpProblemKind::bad_byte_range, value_span,
                     "Byte-Range \"" + printable(value) + "\" is not start-end/total (RFC 4975 section 7.1.1)"});
        } else if (iequals(name, "Content-Type")) {
            m.content_type = printable(value, 128);
            m.content_type_span = value_span;
        } else if (iequals(name, "Failure-Report")) {
            m.failure_report = printable(value, 16);
        }
    }
    // The end-line: "-------" transaction-id flag CRLF, at the start of a line.
    std::size_t end_at = std::string_view::npos;
    if (at_end_line) {
        end_at = pos;
        if (bytes.compare(pos, end_marker.size(), end_marker) != 0) end_at = std::string_view::npos;
    }
    if (end_at == std::string_view::npos) {
        for (std::size_t from = body_follows ? pos : pos; from < bytes.size();) {
            const std::size_t hit = bytes.find(end_marker, from);
            if (hit == std::string_view::npos) break;
            if (hit == 0 || bytes[hit - 1] == '\n') {
                end_at = hit;
                break;
            }
            from = hit + 1;
        }
    }
    if (end_at != std::string_view::npos && end_at + end_marker.size() < bytes.size()) {
        const char flag = bytes[end_at + end_marker.size()];
        if (flag == '$' || flag == '+' || flag == '#') {
            m.flag = flag;
            std::size_t next;
            const std::string_view end_line = line_at(end_at, &next);
            m.end_line = {end_at, end_line.size()};
            m.length = next;
            if (body_follows) {
                std::size_t body_end = end_at;
                if (body_end > pos && bytes[body_end - 1] == '\n') --body_end;
                if (body_end > pos && bytes[body_end - 1] == '\r') --body_end;
                m.body = {pos, body_end > pos ? body_end - pos : 0};
            }
        }
    }
    if (!m.flag) {
        m.length = bytes.size();
        if (body_follows) m.body = {pos, bytes.size() - pos};
        m.problems.push_back(
            {MsrpProblemKind::no_end_line,
             {0, bytes.size()},
             "No end-line " + printable(end_marker, 48) + ": message truncated or continued in a later segment"});
    }
    if (!m.is_response && (m.to_path_span.length == 0 || m.from_path_span.length == 0) &&
        std::none_of(m.problems.begin(), m.problems.end(),
                     [](const MsrpProblem& p) { return p.kind == MsrpProblemKind::too_many_headers; }))
        m.problems.push_back({MsrpProblemKind::missing_header, m.start_line,
                              std::string("Request without ") + (m.to_path_span.length ? "From-Path" : "To-Path") +
                                  " (RFC 4975 section 7.1)"});
    return m;
}

// ---------------------------------------------------------------------------------------------------

std::string MsrpTracker::txn_key(std::uint32_t stream, bool from_client, const std::string& tid) {
    return std::to_string(stream) + (from_client ? "c" : "s") + tid;
}

std::string MsrpTracker::endpoint(const std::string& host, std::uint16_t port) {
    return host + ":" + std::to_string(port);
}

std::string MsrpTracker::offer_key(const sip::Message& m, const sip::TxnVerdict& txn) {
    if (txn.id) return "t" + std::to_string(txn.id);
    return m.call_id + '\x1f' + m.from.tag + '\x1f' + std::to_string(m.cseq);
}

void MsrpTracker::full(std::uint32_t frame, const char* what, std::vector<Note>& out) {
    if (full_reported_) return;
    full_reported_ = true;
    out.push_back(
        {NoteKind::tracking_full, frame, 0, 0,
         std::string("Tracking limit reached (") + what + "): later MSRP sessions or transactions are not analysed"});
}

template <class T>
void MsrpTracker::open_item(OpenList<T>& list, T* item) {
    if (list.items.size() >= list.mark) {
        list.items.erase(std::remove_if(list.items.begin(), list.items.end(),
                                        [](const std::pair<T*, std::uint64_t>& e) {
                                            return e.first->order != e.second || !e.first->open();
                                        }),
                         list.items.end());
        list.mark = 2 * list.items.size() + 16;
    }
    list.items.emplace_back(item, item->order);
}

void MsrpTracker::incomplete_messages(const std::vector<OpenList<Chunks>*>& lists, std::uint32_t frame,
                                      const std::string& why, std::vector<Note>& out) {
    std::vector<std::pair<std::uint64_t, Chunks*>> open;
    for (OpenList<Chunks>* list : lists) {
        for (const auto& [ch, order] : list->items) {
            ++work_;
            if (ch->order == order && ch->open()) open.emplace_back(order, ch);
        }
        list->items.clear();
        list->mark = 16;
    }
    if (lists.size() > 1)
        std::sort(open.begin(), open.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& entry : open) {
        Chunks& ch = *entry.second;
        if (!ch.open()) continue;  // listed twice (a connection's and its session's lists)
        ch.ended = true;
        const std::string msg = "Message " + printable(ch.message_id, 32) + " ended incomplete: " +
                                (ch.count == 1 ? std::string("1 chunk, ") : std::to_string(ch.count) + " chunks, ") +
                                std::to_string(ch.bytes) + " of " + (ch.total ? std::to_string(*ch.total) : "*") +
                                " bytes (last chunk in frame " + std::to_string(ch.last_frame) + "); " + why;
        const std::vector<Link> links{{LinkKind::last_chunk, ch.last_frame}};
        out.push_back({NoteKind::message_incomplete, frame, 0, 0, msg, false, 0, links});
        if (ch.last_frame != frame)
            out.push_back({NoteKind::message_incomplete, ch.last_frame, 0, 0, msg, false, 0, links});
    }
}

void MsrpTracker::unanswered_sends(const std::vector<OpenList<Txn>*>& lists, std::uint32_t frame, Nanos time,
                                   const std::string& why, std::vector<Note>& out) {
    std::vector<std::pair<std::uint64_t, Txn*>> open;
    for (OpenList<Txn>* list : lists) {
        for (const auto& [t, order] : list->items) {
            ++work_;
            if (t->open()) open.emplace_back(order, t);
        }
        list->items.clear();
        list->mark = 16;
    }
    if (lists.size() > 1)
        std::sort(open.begin(), open.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& entry : open)
        if (entry.second->open()) unanswered(*entry.second, frame, time, why, out);
}

bool MsrpTracker::wants_segment(const sip::Frame& f) const {
    if (!f.tcp || f.flow.transport != Transport::tcp) return false;
    if (conns_.count(f.flow.stream)) return true;
    return f.tcp->syn && !by_endpoint_.empty() && by_endpoint_.find(endpoint(f.flow.dst)) != by_endpoint_.end();
}

void MsrpTracker::sdp_notes(const SdpMsrpMedia& m, std::uint32_t frame, std::vector<Note>& out) const {
    out.push_back({NoteKind::sdp_endpoint, frame, 0, 0, endpoint(m.endpoint_host(), m.endpoint_port())});
    std::string path;
    for (const MsrpUri& u : m.path) {
        if (!path.empty()) path += ' ';
        path += (u.secure ? "msrps://" : "msrp://") + u.host + (u.port ? ":" + std::to_string(u.port) : "") +
                (u.session_id.empty() ? "" : "/" + u.session_id) + ";" + u.transport;
    }
    if (!path.empty()) out.push_back({NoteKind::sdp_path, frame, 0, 0, path});
    if (!m.session_id().empty()) out.push_back({NoteKind::sdp_session_id, frame, 0, 0, m.session_id()});
    out.push_back({NoteKind::sdp_setup, frame, 0, 0, setup_role_name(m.setup)});
    if (!m.accept_types.empty()) out.push_back({NoteKind::sdp_accept_types, frame, 0, 0, m.accept_types});
}

void MsrpTracker::tick(std::uint32_t frame, Nanos time, std::vector<Note>& out) {
    // SENDs unanswered past the timeout, oldest first.
    while (!open_txns_.empty()) {
        auto it = txns_.find(open_txns_.front());
        if (it == txns_.end() || it->second.answered || it->second.reported) {
            open_txns_.pop_front();
            continue;
        }
        if (time - it->second.time < limits_.send_timeout) break;
        unanswered(it->second, frame, time,
                   "none within msrpa.send_timeout (" + whole_seconds(limits_.send_timeout) + " s), checked", out);
        open_txns_.pop_front();
    }
    // Sessions that received no SEND within the bind timeout of their answer.
    while (!open_watches_.empty()) {
        auto it = watches_.find(open_watches_.front());
        if (it == watches_.end() || it->second.bound || it->second.closed) {
            open_watches_.pop_front();
            continue;
        }
        Watch& w = it->second;
        const Nanos elapsed = time - w.answer_time;
        if (elapsed < limits_.bind_timeout) break;
        // The SENDs sent to it are link fields (msrpa.link.send), not words: any number of them fits.
        const std::uint32_t cause = sessions_[w.session].cause_frame;
        std::string rest = " (SDP in frame " + std::to_string(w.answer_frame) + ") got no SEND in " +
                           whole_seconds(limits_.bind_timeout) + " s (" + seconds_text(elapsed) + " s elapsed): ";
        const std::size_t sends = w.send_frames.size();
        rest += sends == 0   ? "none was sent to it"
                : sends == 1 ? "1 SEND to it neither acknowledged nor answered"
                             : std::to_string(sends) + " SENDs to it neither acknowledged nor answered";
        rest += caused_by_text(cause);
        // The side's host and port only when they fit (an IPv6 relay may not): the SDP answer has them.
        const std::string head = "MSRP session " + printable(w.sid, 24);
        const std::string where = " of " + endpoint(w.host, w.port);
        const std::string msg = head.size() + where.size() + rest.size() <= 200 ? head + where + rest : head + rest;
        std::vector<Link> links{{LinkKind::sdp_answer, w.answer_frame}};
        for (std::uint32_t f : w.send_frames) links.push_back({LinkKind::send, f});
        out.push_back({NoteKind::bind_timeout, frame, 0, 0, msg, false, cause, links});
        out.push_back({NoteKind::bind_elapsed, frame, 0, elapsed, ""});
        if (w.answer_frame != frame)
            out.push_back({NoteKind::bind_timeout, w.answer_frame, 0, 0, msg, false, cause, links});
        w.closed = true;
        open_watches_.pop_front();
    }
}

void MsrpTracker::on_bye(const sip::Message& m, std::vector<Note>& out) {
    // Every offer/answer of the dialog (a re-INVITE makes another) ends; the dialog ended unbound
    // when none of them saw a SEND answered 200. One pass over the open state for all of them, so a
    // hostile capture with many re-INVITEs or BYEs costs no product of the tables' sizes.
    std::optional<std::size_t> first;
    bool any_200 = false, connects = false;
    std::unordered_set<std::size_t> ending;
    auto range = by_call_.equal_range(m.call_id);
    for (auto it = range.first; it != range.second; ++it) {
        Session& s = sessions_[it->second];
        if (!s.answered || s.ended) continue;
        s.ended = true;
        ending.insert(it->second);
        if (!first || it->second < *first) first = it->second;
        any_200 = any_200 || s.any_200;
        // A session where nobody connects was reported on its answer already.
        connects = connects || s.verdict.offerer_connects || s.verdict.answerer_connects;
    }
    if (ending.empty()) return;
    // The ending sessions' own open items, in the order they were opened (the SENDs' order in
    // open_txns_), never a pass over every session's.
    std::vector<std::size_t> order(ending.begin(), ending.end());
    std::sort(order.begin(), order.end());
    std::vector<OpenList<Txn>*> sends;
    std::vector<OpenList<Chunks>*> chunks;
    for (std::size_t i : order) {
        Session& s = sessions_[i];
        for (const std::string& sid : s.watch_sids) {
            ++work_;
            auto w = watches_.find(sid);
            if (w != watches_.end() && w->second.session == i) w->second.closed = true;
        }
        sends.push_back(&s.open_sends);
        chunks.push_back(&s.open_chunks);
    }
    unanswered_sends(sends, m.frame, m.time, "the session ended (BYE)", out);
    incomplete_messages(chunks, m.frame, "the session ended (BYE)", out);
    if (first && !any_200 && connects) {
        const Session& s = sessions_[*first];
        out.push_back({NoteKind::session_ended_unbound, m.frame, 0, 0,
                       "BYE " + seconds_text(m.time - s.answer_time) + " s after the SDP answer (frame " +
                           std::to_string(s.answer_frame) + ") and no SEND of this session got a 200 OK" +
                           caused_by_text(s.cause_frame),
                       false, s.cause_frame, {{LinkKind::sdp_answer, s.answer_frame}}});
    }
}

void MsrpTracker::on_sip(const sip::Message& m, const sip::TxnVerdict& txn, const SdpMsrp* sdp,
                         std::vector<Note>& out) {
    if (m.is("BYE")) {
        on_bye(m, out);
        return;
    }
    if (!sdp || sdp->media.empty()) return;
    const SdpMsrpMedia& media = sdp->media.front();
    sdp_notes(media, m.frame, out);
    const std::string key = offer_key(m, txn);
    // Port 0 rejects or removes the stream (RFC 3264 section 6): a chat declined in an answer that
    // accepts the audio is no session, and must not be judged unbound.
    if (media.port == 0) {
        if (m.final_response()) pending_offers_.erase(key);
        return;
    }
    if (m.is("INVITE") || m.is("UPDATE")) {
        // A copy of an offer already seen (retransmitted, or reflected back) is the same offer.
        if (txn.retransmission || txn.reflected) return;
        if (sessions_.size() >= limits_.max_sessions) {
            full(m.frame, "msrpa.max_sessions", out);
            return;
        }
        Session s;
        s.call_id = m.call_id;
        s.offer_id = m.call_id + '\x1f' + m.from.tag + '\x1f' + std::to_string(m.cseq);
        s.offer_frame = m.frame;
        Side& o = s.side[offerer];
        o.host = media.endpoint_host();
        o.port = media.endpoint_port();
        o.sid = media.session_id();
        o.setup = media.setup;
        o.via_relay = media.path.size() > 1;
        sessions_.push_back(std::move(s));
        pending_offers_[key] = sessions_.size() - 1;
        by_call_.emplace(m.call_id, sessions_.size() - 1);
        return;
    }
    if (m.request || m.status < 200 || m.status >= 300) {
        // An answer in a reliable 18x or an offer in a 200 (answer in ACK) is not followed here.
        if (!m.request && m.status >= 180 && m.status < 200) {
            auto it = pending_offers_.find(key);
            if (it != pending_offers_.end()) answer(sessions_[it->second], it->second, m, media, out);
        }
        return;
    }
    auto it = pending_offers_.find(key);
    if (it == pending_offers_.end()) return;
    const std::size_t index = it->second;
    pending_offers_.erase(it);
    answer(sessions_[index], index, m, media, out);
}

void MsrpTracker::answer(Session& s, std::size_t index, const sip::Message& sip, const SdpMsrpMedia& m,
                         std::vector<Note>& out) {
    if (s.answered) index_sides(index, false);  // a later answer may move the answerer
    Side& a = s.side[answerer];
    a.host = m.endpoint_host();
    a.port = m.endpoint_port();
    a.sid = m.session_id();
    a.setup = m.setup;
    a.via_relay = m.path.size() > 1;
    const bool first = !s.answered;
    s.answered = true;
    s.answer_frame = sip.frame;
    s.answer_time = sip.time;
    s.verdict = connection_model(s.side[offerer].setup, a.setup);
    out.push_back({NoteKind::offer_in, sip.frame, s.offer_frame, 0, ""});
    out.push_back({NoteKind::answer_in, s.offer_frame, sip.frame, 0, "", true});
    out.push_back({NoteKind::connection_model, sip.frame, static_cast<std::uint64_t>(s.verdict.model), 0, ""});
    out.push_back(
        {NoteKind::connection_model, s.offer_frame, static_cast<std::uint64_t>(s.verdict.model), 0, "", true});
    const ConnectionModel model = s.verdict.model;
    // Through an RFC 4976 relay (an a=path with a relay before the endpoint) each client connects to
    // its relay, which listens: both active is how relays work, not a fault (captures/real's
    // real_msrp_relay.pcap, Kamailio's msrp module, every SEND answered).
    if (model == ConnectionModel::both_active && !s.side[offerer].via_relay && !a.via_relay)
        report_both_active(s, sip, out);
    else if (model == ConnectionModel::both_passive || model == ConnectionModel::holdconn)
        out.push_back({NoteKind::nobody_connects, sip.frame, 0, 0, s.verdict.message});
    if (first)
        for (int p = 0; p < 2; ++p) {
            if (!s.side[p].host.empty()) {
                std::string k = endpoint(s.side[p].host, s.side[p].port);
                by_endpoint_.emplace(k, index);
                if (std::find(s.endpoints.begin(), s.endpoints.end(), k) == s.endpoints.end())
                    s.endpoints.push_back(std::move(k));
            }
            if (!s.side[p].sid.empty()) by_sid_[s.side[p].sid] = index;
        }
    index_sides(index, true);
    // The bind timer starts at the 2xx: an answer in a 18x (early media) may come long before the
    // user accepts, and a call cancelled after it has no session to bind.
    if (s.watched || sip.status < 200) return;
    s.watched = true;
    // The sides that must receive a SEND to bind: the passive (accepting) one, or both in ACM.
    if (model == ConnectionModel::both_passive || model == ConnectionModel::holdconn) return;
    for (int p = 0; p < 2; ++p) {
        const bool connects = p == offerer ? s.verdict.offerer_connects : s.verdict.answerer_connects;
        if (connects && model != ConnectionModel::both_active) continue;
        const Side& side = s.side[p];
        if (side.sid.empty() || watches_.count(side.sid)) continue;
        if (watches_.size() >= limits_.max_sessions) {
            full(sip.frame, "msrpa.max_sessions", out);
            return;
        }
        Watch w;
        w.sid = side.sid;
        w.host = side.host;
        w.port = side.port;
        w.answer_frame = sip.frame;
        w.answer_time = sip.time;
        w.session = index;
        watches_.emplace(side.sid, std::move(w));
        open_watches_.push_back(side.sid);
        s.watch_sids.push_back(side.sid);
    }
}

void MsrpTracker::report_both_active(Session& s, const sip::Message& sip, std::vector<Note>& out) const {
    // A B2BUA relays the answer to the other leg with the MSRP session ids kept (field case 001's SBC),
    // a proxy forwards the same answer (captures/real: Kamailio record-routing): both legs are one MSRP
    // session, one incident, reported where it was seen first; this leg's findings name that frame as
    // their cause.
    if (!s.cause_frame) {
        for (const Side& side : s.side) {
            if (side.sid.empty()) continue;
            auto other = by_sid_.find(side.sid);
            if (other == by_sid_.end()) continue;
            const Session& o = sessions_[other->second];
            // Another leg: a B2BUA's (another Call-ID) or a proxy's (the same offer seen twice, on two
            // transactions); a re-INVITE of the dialog (same Call-ID, another CSeq) is a new offer.
            if (&o == &s || !o.cause_frame || (o.call_id == s.call_id && o.offer_id != s.offer_id)) continue;
            s.cause_frame = o.cause_frame;
            s.relayed = true;
            break;
        }
    }
    if (s.relayed) {
        out.push_back({NoteKind::both_active_relayed, sip.frame, 0, 0,
                       "Both ends a=setup:active on this leg too: the same MSRP session (a=path session ids) as the "
                       "answer in frame " + std::to_string(s.cause_frame) + ", where it is reported",
                       false, s.cause_frame, {{LinkKind::sdp_offer, s.offer_frame}}});
        return;
    }
    if (!s.cause_frame) s.cause_frame = sip.frame;
    out.push_back({NoteKind::both_active, sip.frame, 0, 0, s.verdict.message, false, 0,
                   {{LinkKind::sdp_offer, s.offer_frame}}});
}

void MsrpTracker::index_sides(std::size_t index, bool add) {
    const Session& s = sessions_[index];
    for (const std::string& k : s.endpoints) {
        for (int p = 0; p < 2; ++p) {
            if (endpoint(s.side[p].host, s.side[p].port) != k) continue;
            const std::pair<std::size_t, int> entry{index, p};
            const std::string from = k + '\n' + s.side[p == offerer ? answerer : offerer].host;
            if (add) {
                at_endpoint_[k].insert(entry);
                at_endpoint_from_[from].insert(entry);
                continue;
            }
            for (auto* map : {&at_endpoint_, &at_endpoint_from_}) {
                auto it = map->find(map == &at_endpoint_ ? k : from);
                if (it == map->end()) continue;
                it->second.erase(entry);
                if (it->second.empty()) map->erase(it);
            }
        }
    }
}

// Prefer the latest session whose other side is this client; else the latest one (the first side of
// it at the endpoint). Equal to a pass over the endpoint's sessions, from two ordered sets.
std::optional<std::size_t> MsrpTracker::find_session(const Endpoint& server, const std::string& client,
                                                     Party* client_party) const {
    const std::string k = endpoint(server);
    const SideSet* set = nullptr;
    if (auto m = at_endpoint_from_.find(k + '\n' + client); m != at_endpoint_from_.end()) set = &m->second;
    else if (auto a = at_endpoint_.find(k); a != at_endpoint_.end()) set = &a->second;
    if (!set || set->empty()) return std::nullopt;
    // The latest session, and of its entries the first side.
    const std::size_t latest = set->rbegin()->first;
    const auto first = set->lower_bound({latest, 0});
    *client_party = first->second == offerer ? answerer : offerer;
    return latest;
}

MsrpTracker::Conn* MsrpTracker::connection(const sip::Frame& f, std::vector<Note>& out) {
    auto it = conns_.find(f.flow.stream);
    if (it != conns_.end()) return &it->second;
    if (conns_.size() >= limits_.max_sessions) {
        full(f.number, "msrpa.max_sessions", out);
        return nullptr;
    }
    const sip::TcpFacts& tcp = *f.tcp;
    Conn c;
    Party party = offerer;
    // With the SYN, the receiver is the server; without it, try the destination first.
    std::optional<std::size_t> s = find_session(f.flow.dst, f.flow.src.address, &party);
    bool src_is_client = true;
    if (!s && !tcp.syn) {
        s = find_session(f.flow.src, f.flow.dst.address, &party);
        src_is_client = !s.has_value();
    }
    c.client = src_is_client ? f.flow.src : f.flow.dst;
    c.server = src_is_client ? f.flow.dst : f.flow.src;
    c.syn_seen = tcp.syn && !tcp.ack_flag;
    c.session = s;
    c.client_party = party;
    return &conns_.emplace(f.flow.stream, std::move(c)).first->second;
}

void MsrpTracker::delivered(Txn& t) {
    if (t.delivered) return;
    t.delivered = true;
    if (t.method != "SEND" || t.to_sid.empty()) return;
    auto w = watches_.find(t.to_sid);
    if (w != watches_.end()) w->second.bound = true;
}

void MsrpTracker::unanswered(Txn& t, std::uint32_t frame, Nanos time, const std::string& why, std::vector<Note>& out) {
    t.reported = true;
    const std::uint32_t cause = t.session ? sessions_[*t.session].cause_frame : 0;
    std::string msg = "SEND " + tid_text(t.tid) + " (frame " + std::to_string(t.frame) + ") got no response: " + why +
                      " " + seconds_text(time - t.time) + " s after it; ";
    if (t.retransmissions) msg += "retransmitted " + times(t.retransmissions) + ", ";
    msg += t.delivered ? "acknowledged by the peer's TCP" : "never acknowledged by the peer's TCP";
    msg += caused_by_text(cause);
    const std::vector<Link> links{{LinkKind::send, t.frame}};
    out.push_back({NoteKind::send_unanswered, frame, 0, 0, msg, false, cause, links});
    if (t.frame != frame) out.push_back({NoteKind::send_unanswered, t.frame, 0, 0, msg, false, cause, links});
}

void MsrpTracker::on_tcp(const sip::Frame& f, const MsrpMessage* msg, std::vector<Note>& out) {
    std::vector<MsrpMessage> msgs;
    if (msg) msgs.push_back(*msg);
    on_tcp(f, msgs, out);
}

bool MsrpTracker::has_sid(std::size_t session, const MsrpMessage& msg) const {
    const std::string to = msg.to_session_id(), from = msg.from_session_id();
    for (const Side& side : sessions_[session].side)
        if (!side.sid.empty() && (side.sid == to || side.sid == from)) return true;
    return false;
}

std::optional<std::size_t> MsrpTracker::session_of(const Conn& c, const MsrpMessage& msg) const {
    if (c.session && has_sid(*c.session, msg)) return c.session;
    for (const std::string& sid : {msg.to_session_id(), msg.from_session_id()}) {
        if (sid.empty()) continue;
        auto it = by_sid_.find(sid);
        if (it != by_sid_.end()) return it->second;
    }
    return c.session;
}

void MsrpTracker::adopt_session(Conn& c, const MsrpMessage& msg) const {
    // The connection went to the latest session with its server endpoint (or to none, when it opened
    // before the answer was seen); a first SEND naming another session whose SDP has that endpoint
    // belongs to that one (two sessions between the same hosts).
    if (c.first_send_checked || msg.method != "SEND" || (c.session && has_sid(*c.session, msg))) return;
    const std::optional<std::size_t> named = session_of(Conn{}, msg);
    if (!named) return;
    for (int p = 0; p < 2; ++p) {
        const Side& srv = sessions_[*named].side[p];
        if (srv.host != c.server.address || srv.port != c.server.port) continue;
        c.session = named;
        c.client_party = p == offerer ? answerer : offerer;
        return;
    }
}

void MsrpTracker::retransmitted(const sip::Frame& f, bool from_client, std::vector<Note>& out) {
    const sip::TcpFacts& tcp = *f.tcp;
    auto k = by_seq_.find({f.flow.stream, (std::uint64_t(from_client) << 32) | tcp.seq});
    if (k != by_seq_.end()) {
        auto t = txns_.find(k->second);
        if (t != txns_.end()) {
            Txn& txn = t->second;
            ++txn.retransmissions;
            const std::uint32_t cause = txn.session ? sessions_[*txn.session].cause_frame : 0;
            out.push_back({NoteKind::retransmission_of, f.number, txn.frame, 0, ""});
            const std::string msg_here = "TCP retransmission " + std::to_string(txn.retransmissions) + " of " +
                                         printable(txn.method, 16) + " " + tid_text(txn.tid) + " (frame " +
                                         std::to_string(txn.frame) + "), " + seconds_text(f.time - txn.time) +
                                         " s after it" + (txn.answered ? "" : ", still unanswered") +
                                         caused_by_text(cause);
            out.push_back({NoteKind::send_retransmitted, f.number, 0, 0, msg_here, false, cause});
            out.push_back({NoteKind::send_retransmissions, txn.frame, txn.retransmissions, 0, "", true});
            out.push_back({NoteKind::send_retransmitted, txn.frame, 0, 0,
                           printable(txn.method, 16) + " " + tid_text(txn.tid) + " was retransmitted by TCP " +
                               times(txn.retransmissions) + ", last in frame " + std::to_string(f.number) + " (" +
                               seconds_text(f.time - txn.time) + " s after it)" + caused_by_text(cause),
                           true, cause, {{LinkKind::last_retransmission, f.number}}});
        }
    }
}

void MsrpTracker::on_tcp(const sip::Frame& f, const std::vector<MsrpMessage>& msgs, std::vector<Note>& out) {
    if (!f.tcp) return;
    const sip::TcpFacts& tcp = *f.tcp;
    Conn* c = connection(f, out);
    if (!c) return;
    const bool from_client = f.flow.src == c->client;
    // Acknowledgements: the peer took the bytes of a request (delivery, for binding).
    if (tcp.ack_flag && !tcp.syn) {
        auto& pending = c->undelivered[from_client ? 0 : 1];  // requests sent by the other side
        for (std::size_t i = 0; i < pending.size();) {
            auto t = txns_.find(pending[i]);
            if (t == txns_.end() || t->second.delivered ||
                static_cast<std::int32_t>(tcp.ack - t->second.seq_end) >= 0) {
                if (t != txns_.end()) delivered(t->second);
                pending[i] = std::move(pending.back());
                pending.pop_back();
                continue;
            }
            ++i;
        }
    }
    // A retransmission of a segment that carried a request: MSRP never sees it again.
    if ((tcp.retransmission || tcp.spurious) && tcp.len) retransmitted(f, from_client, out);
    std::uint32_t offset = 0;
    std::optional<std::size_t> shown;  // the session whose connection fields this frame shows
    for (const MsrpMessage& msg : msgs) {
        const std::uint32_t seq = tcp.seq + offset;
        offset += static_cast<std::uint32_t>(msg.length);
        if (!msg.valid) continue;
        if (!msg.is_response) adopt_session(*c, msg);
        const std::optional<std::size_t> session = session_of(*c, msg);
        if (session && !shown) {
            shown = session;
            const Session& s = sessions_[*session];
            out.push_back({NoteKind::conn_sdp_answer, f.number, s.answer_frame, 0, ""});
            out.push_back({NoteKind::conn_call_id, f.number, 0, 0, s.call_id});
            if (c->syn_seen && session == c->session) {
                const char* who = c->client_party == offerer ? "offerer " : "answerer ";
                out.push_back({NoteKind::conn_opened_by, f.number, 0, 0, who + endpoint(c->client)});
            }
        }
        if (msg.is_response)
            on_response(f, *c, msg, out);
        else
            on_request(f, seq, *c, msg, out);
    }
    // Each side's first FIN and the first RST close transactions; repeated flags cost nothing more.
    const std::uint8_t close_bit = tcp.rst ? 4 : from_client ? 1 : 2;
    if ((tcp.fin || tcp.rst) && !(c->closes & close_bit)) {
        c->closes |= close_bit;
        const std::string why = tcp.rst ? "the connection was reset" : "the connection was closed";
        // This connection's open SENDs and chunked messages only.
        unanswered_sends({&c->open_sends}, f.number, f.time, why, out);
        incomplete_messages({&c->open_chunks}, f.number, why, out);
    }
}

void MsrpTracker::on_request(const sip::Frame& f, std::uint32_t seq, Conn& c, const MsrpMessage& msg,
                             std::vector<Note>& out) {
    const bool from_client = f.flow.src == c.client;
    // Who opened the connection against who the SDP said should (first message only).
    if (c.session && !c.first_send_checked && msg.method == "SEND") {
        c.first_send_checked = true;
        const Session& s = sessions_[*c.session];
        const Party sender = from_client ? c.client_party : (c.client_party == offerer ? answerer : offerer);
        const Party receiver = sender == offerer ? answerer : offerer;
        const std::vector<Link> sdp_links{{LinkKind::sdp_offer, s.offer_frame}, {LinkKind::sdp_answer, s.answer_frame}};
        if (c.syn_seen) {
            const bool may = c.client_party == offerer ? s.verdict.offerer_connects : s.verdict.answerer_connects;
            if (!may)
                out.push_back({NoteKind::unexpected_opener, f.number, 0, 0,
                               std::string("The ") + (c.client_party == offerer ? "offerer" : "answerer") + " " +
                                   endpoint(c.client) + " opened this connection, but the SDP (frames " +
                                   std::to_string(s.offer_frame) + ", " + std::to_string(s.answer_frame) + ") says " +
                                   (s.verdict.offerer_connects    ? "the offerer"
                                    : s.verdict.answerer_connects ? "the answerer"
                                                                  : "nobody") +
                                   " connects",
                               false, 0, sdp_links});
        }
        // Session ids in the message cut to 20 characters each: both mismatches fit in 200.
        std::string mismatch;
        const std::string& want_to = s.side[receiver].sid;
        const std::string& want_from = s.side[sender].sid;
        if (!want_to.empty() && msg.to_session_id() != want_to)
            mismatch = "To-Path session id \"" + printable(msg.to_session_id(), 20) + "\" is not the " +
                       (receiver == offerer ? "offer" : "answer") + "'s a=path session id \"" + printable(want_to, 20) +
                       "\"";
        if (!want_from.empty() && msg.from_session_id() != want_from)
            mismatch += (mismatch.empty() ? "" : "; ") + std::string("From-Path session id \"") +
                        printable(msg.from_session_id(), 20) + "\" is not the " +
                        (sender == offerer ? "offer" : "answer") + "'s a=path session id \"" + printable(want_from, 20) +
                        "\"";
        if (!mismatch.empty()) out.push_back({NoteKind::path_mismatch, f.number, 0, 0, mismatch, false, 0, sdp_links});
    }
    if (msg.transaction_id.empty()) return;
    const std::string key = txn_key(f.flow.stream, from_client, msg.transaction_id);
    auto existing = txns_.find(key);
    if (existing != txns_.end()) {
        out.push_back({NoteKind::duplicate_tid, f.number, 0, 0,
                       "Transaction id " + tid_text(msg.transaction_id) + " was already used by the " +
                           printable(existing->second.method, 16) + " in frame " +
                           std::to_string(existing->second.frame) + " on this connection",
                       false, 0, {{LinkKind::first_use, existing->second.frame}}});
        return;
    }
    if (txns_.size() >= limits_.max_transactions) {
        full(f.number, "msrpa.max_transactions", out);
        return;
    }
    Txn t;
    t.frame = f.number;
    t.stream = f.flow.stream;
    t.time = f.time;
    t.tid = msg.transaction_id;
    t.method = msg.method;
    t.to_sid = msg.to_session_id();
    t.message_id = msg.message_id;
    t.from_client = from_client;
    t.seq = seq;
    t.seq_end = seq + static_cast<std::uint32_t>(msg.length);
    t.session = session_of(c, msg);
    // RFC 4975 section 7.1.2: no response to a REPORT, none to a SEND with Failure-Report: no, and
    // only failure responses to one with "partial" (Blink's msrplib sends chat messages that way, to
    // turn off hop-by-hop 200 OKs): only a SEND that asks for a 200 can miss one.
    t.expects_response = msg.method != "REPORT" && !iequals(msg.failure_report, "no") &&
                         !iequals(msg.failure_report, "partial");
    by_seq_[{f.flow.stream, (std::uint64_t(from_client) << 32) | seq}] = key;
    if (t.method == "SEND" && !t.to_sid.empty()) {
        auto w = watches_.find(t.to_sid);
        if (w != watches_.end() && w->second.send_frames.size() < 64) w->second.send_frames.push_back(f.number);
    }
    const bool open_send = t.method == "SEND" && t.expects_response;
    if (open_send) {
        open_txns_.push_back(key);
        t.order = next_order_++;
    }
    // Acknowledged by the peer: its segments' ACKs are checked against this request's end.
    if (c.undelivered[from_client ? 1 : 0].size() < 1024) c.undelivered[from_client ? 1 : 0].push_back(key);

    // Chunks of one message (Message-ID), in this direction of this connection.
    if (!msg.message_id.empty()) {
        const std::string ckey = std::to_string(f.flow.stream) + (from_client ? "c" : "s") + msg.message_id;
        if (msg.method == "SEND" && msg.byte_range) {
            auto found = chunks_.find(ckey);
            if (found == chunks_.end() && chunks_.size() < limits_.max_transactions)
                found = chunks_.emplace(ckey, Chunks{}).first;
            if (found != chunks_.end() && found->second.ended) found->second = Chunks{};  // Message-ID reused
            if (found != chunks_.end()) {
                Chunks& ch = found->second;
                if (ch.count == 0) {
                    ch.stream = f.flow.stream;
                    ch.session = t.session;
                    ch.message_id = msg.message_id;
                    ch.content_type = msg.content_type;
                    ch.order = next_order_++;
                    open_item(c.open_chunks, &ch);
                    if (ch.session) open_item(sessions_[*ch.session].open_chunks, &ch);
                }
                if (msg.byte_range->total) ch.total = msg.byte_range->total;
                ++ch.count;
                ch.last_frame = f.number;
                ch.bytes += msg.body.length;
                out.push_back({NoteKind::chunk_number, f.number, ch.count, 0, ""});
                const bool last_bytes =
                    !msg.byte_range->total || (msg.byte_range->start + msg.body.length == *msg.byte_range->total + 1);
                if (msg.flag == '#' || (msg.flag == '$' && last_bytes)) {
                    out.push_back({NoteKind::message_complete, f.number, msg.flag == '$' ? 1u : 0u, 0, ""});
                    out.push_back({NoteKind::message_chunks, f.number, ch.count, 0, ""});
                    out.push_back({NoteKind::message_bytes, f.number, ch.bytes, 0, ""});
                    if (!ch.content_type.empty())
                        out.push_back({NoteKind::message_content_type, f.number, 0, 0, ch.content_type});
                    ch.ended = true;
                }
            }
        } else if (msg.method == "REPORT") {
            const std::string sent = std::to_string(f.flow.stream) + (from_client ? "s" : "c") + msg.message_id;
            auto found = chunks_.find(sent);
            if (found != chunks_.end()) {
                out.push_back({NoteKind::report_of, f.number, found->second.last_frame, 0, ""});
                out.push_back({NoteKind::report_in, found->second.last_frame, f.number, 0, "", true});
            }
        }
    }
    Txn& stored = txns_.emplace(key, std::move(t)).first->second;
    if (open_send) {
        open_item(c.open_sends, &stored);
        if (stored.session) open_item(sessions_[*stored.session].open_sends, &stored);
    }
}

void MsrpTracker::on_response(const sip::Frame& f, Conn& c, const MsrpMessage& msg, std::vector<Note>& out) {
    const bool from_client = f.flow.src == c.client;
    auto it = txns_.find(txn_key(f.flow.stream, !from_client, msg.transaction_id));
    if (it == txns_.end()) return;
    Txn& t = it->second;
    if (t.answered) return;
    t.answered = true;
    t.response_frame = f.number;
    delivered(t);
    out.push_back({NoteKind::request_in, f.number, t.frame, 0, ""});
    out.push_back({NoteKind::response_time, f.number, 0, f.time - t.time, ""});
    out.push_back({NoteKind::response_in, t.frame, f.number, 0, "", true});
    if (msg.status == 200 && t.method == "SEND" && t.session) sessions_[*t.session].any_200 = true;
}

}  // namespace sipsleuth::core
