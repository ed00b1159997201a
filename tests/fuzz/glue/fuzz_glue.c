/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target for the glue: the real libwireshark 4.0 with our six plugins loaded (sipsleuth.so),
 * dissecting a whole fuzzed conversation so that the post-dissectors, their trackers, the frame stores
 * and the renderers see hostile sequences of packets, not one parser's input. Modelled on Wireshark's
 * fuzzshark, which fuzzes one dissector with one packet per input.
 *
 * Input: a script of packets. Every line starting with "@@" opens a packet; the characters after "@@"
 * up to the end of that line describe it, the bytes after that line (up to the next "\n@@") are its
 * payload. Header characters, any order, unknown ones ignored:
 *   t        TCP (default UDP)
 *   A..H     the connection (client port 40000+n, address 192.0.2.10 for A-D, .11 for E-H; server
 *            192.0.2.1)
 *   <        sent by the server (default: by the client)
 *   +        a SYN, SYN/ACK, ACK handshake before this packet (TCP)
 *   -        FIN after the payload        !   RST instead of the payload
 *   ~        retransmit the previous segment of this direction (payload ignored)
 *   ?        a 100-byte hole in the sequence space before this segment (a lost segment)
 *   m k      server port 2855 (MSRP) or 2000 (SCCP); default 5060 (sticky per connection)
 *   0..9     time since the previous packet: 0 1 ms, 1 100 ms, 2 1 s, 3 15 s, 4 30 s, 5 120 s,
 *            6 600 s, 7 1800 s, 8 3600 s, 9 the same instant
 * tests/fuzz/glue_corpus.py turns pcaps into such scripts (the seed corpus).
 *
 * Each input is dissected as `tshark -2 -V` would: a first pass with the post-dissectors' wanted fields
 * primed, a second pass in order with a visible tree and the columns, then a third in reverse order (the
 * GUI revisits frames in any order). Every input gets its own epan session, so the init routines reset
 * every tracker. A "Dissector bug" (a failed epan assertion in our code or in Wireshark's) aborts, as
 * does our guard's `<protocol>.internal_error` (a C++ exception caught at the epan boundary).
 *
 * The plugins come from SIPSLEUTH_GLUE_PLUGINS (the folder holding sipsleuth.so), loaded with dlopen
 * and registered before epan_init, so the target works as root (where Wireshark ignores
 * WIRESHARK_PLUGIN_DIR). Built with libFuzzer by tests/fuzz/campaign.py (plugins instrumented too), or
 * with replay_main.cc by CTest to replay the corpus.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include <epan/column-info.h>
#include <epan/column.h>
#include <epan/epan.h>
#include <epan/epan_dissect.h>
#include <epan/expert.h>
#include <epan/frame_data.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/timestamp.h>
#include <epan/tvbuff.h>
#include <wiretap/wtap.h>
#include <wsutil/filesystem.h>
#include <wsutil/privileges.h>
#include <wsutil/wslog.h>

#define MAX_PACKETS 512
#define MAX_IP_PAYLOAD (65535 - 20 - 20)
#define SERVER_IP 0xC0000201u /* 192.0.2.1 (TEST-NET-1) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    guint8 *bytes;
    guint32 len;
    frame_data fd;
    nstime_t ts;
} packet_t;

typedef struct {
    gboolean used;
    guint16 port;
    guint32 seq[2];          /* next sequence number, per direction (0 client, 1 server) */
    gboolean open;
    const guint8 *last[2];   /* last segment's payload, per direction, for '~' */
    guint32 last_len[2];
    guint32 last_seq[2];
} conn_t;

static packet_t packets[MAX_PACKETS];
static guint npackets;
static column_info cinfo;
static gboolean ready;
static int our_protos[6];
static guint64 our_items; /* items of our protocols seen, over all inputs */
static gboolean dump;

static const nstime_t *frame_ts(struct packet_provider_data *prov _U_, guint32 num) {
    return num >= 1 && num <= npackets ? &packets[num - 1].ts : NULL;
}

static void die(const char *what) {
    fprintf(stderr, "fuzz_glue: %s\n", what);
    abort();
}

/* True when Wireshark's own plugin scan in epan_init will load a plugin of this name (installed in the
 * global or, for a normal user, the personal folder): registering it twice would abort. */
static gboolean installed(const char *name) {
    const char *dirs[2] = {get_plugins_dir_with_version(), started_with_special_privs() ? NULL : get_plugins_pers_dir_with_version()};
    for (int i = 0; i < 2; ++i) {
        if (!dirs[i]) continue;
        char *path = g_build_filename(dirs[i], "epan", name, NULL);
        const gboolean found = g_file_test(path, G_FILE_TEST_EXISTS);
        g_free(path);
        if (found) return TRUE;
    }
    return FALSE;
}

/* Loads sipsleuth.so (the six protocols) from SIPSLEUTH_GLUE_PLUGINS, the folder it was built into. */
static void load_plugins(void) {
    const char *dir = getenv("SIPSLEUTH_GLUE_PLUGINS");
    if (!dir) die("set SIPSLEUTH_GLUE_PLUGINS to the folder of sipsleuth.so");
    static const char *former[] = {"ciscoalarm.so", "dialoginfo.so", "rlmi.so", "mssip.so", "msrpa.so", "siptrack.so"};
    for (size_t i = 0; i < G_N_ELEMENTS(former); ++i)
        if (installed(former[i])) {
            fprintf(stderr, "fuzz_glue: %s, a former per-plugin file, is installed where Wireshark loads it\n",
                    former[i]);
            die("remove the former per-plugin .so files: they register the protocols of sipsleuth.so twice");
        }
    if (installed("sipsleuth.so")) {
        fprintf(stderr, "fuzz_glue: sipsleuth.so is installed where Wireshark loads it by itself: fuzzing that copy\n");
        return;
    }
    char *path = g_build_filename(dir, "sipsleuth.so", NULL);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "fuzz_glue: %s\n", dlerror());
        abort();
    }
    void (*reg)(void) = (void (*)(void))dlsym(h, "plugin_register");
    const int *major = (const int *)dlsym(h, "plugin_want_major");
    if (!reg || !major || *major != 4) die("not a Wireshark 4 plugin");
    reg();
    fprintf(stderr, "fuzz_glue: %s\n", path);
    g_free(path);
}

static void report_items(void) {
    fprintf(stderr, "fuzz_glue: %" G_GUINT64_FORMAT " sipsleuth tree items\n", our_items);
    if (our_items == 0) {
        fprintf(stderr, "fuzz_glue: no input reached a sipsleuth protocol\n");
        _exit(1);
    }
}

static gboolean ours(const header_field_info *hf) {
    for (size_t i = 0; i < G_N_ELEMENTS(our_protos); ++i)
        if (hf->id == our_protos[i] || hf->parent == our_protos[i]) return TRUE;
    return FALSE;
}

static void init_once(void) {
    if (ready) return;
    ready = TRUE;
    g_setenv("WIRESHARK_DEBUG_WMEM_OVERRIDE", "simple", 0);
    g_setenv("G_SLICE", "always-malloc", 0);
    /* epan catches a failed DISSECTOR_ASSERT and shows "Dissector bug" in the tree; abort instead. */
    g_setenv("WIRESHARK_ABORT_ON_DISSECTOR_BUG", "1", 1);
    ws_log_init("fuzz_glue", NULL);
    init_process_policies();
    char *err = configuration_init("/usr/bin/tshark", NULL);
    g_free(err);
    timestamp_set_type(TS_RELATIVE);
    timestamp_set_precision(TS_PREC_AUTO);
    timestamp_set_seconds_type(TS_SECONDS_DEFAULT);
    dump = getenv("SIPSLEUTH_GLUE_DUMP") != NULL;
    load_plugins();
    wtap_init(TRUE);
    if (!epan_init(NULL, NULL, FALSE)) die("epan_init failed");
    e_prefs *p = epan_load_settings();
    prefs_apply_all();
    build_column_format_array(&cinfo, p->num_cols, TRUE);
    /* Our protocols must all be there: a plugin that failed to register would fuzz nothing. */
    static const char *ours[] = {"ciscoalarm", "dialoginfo", "rlmi", "mssip", "msrpa", "siptrack"};
    for (size_t i = 0; i < G_N_ELEMENTS(ours); ++i)
        if ((our_protos[i] = proto_get_id_by_filter_name(ours[i])) < 0) die("a sipsleuth protocol is not registered");
    /* The replay test sets this: a corpus that never reaches our plugins would fuzz nothing of ours. */
    if (getenv("SIPSLEUTH_GLUE_EXPECT_ITEMS")) atexit(report_items);
}

static void put16(guint8 *p, guint v) { p[0] = (guint8)(v >> 8); p[1] = (guint8)v; }
static void put32(guint8 *p, guint32 v) { p[0] = (guint8)(v >> 24); p[1] = (guint8)(v >> 16); p[2] = (guint8)(v >> 8); p[3] = (guint8)v; }

static guint64 step_ns(int c) {
    static const guint64 steps[] = {1000000ull, 100000000ull, 1000000000ull, 15000000000ull, 30000000000ull,
                                    120000000000ull, 600000000000ull, 1800000000000ull, 3600000000000ull, 0};
    return steps[c];
}

static nstime_t now;

static void add_packet(gboolean tcp, guint32 src, guint16 sport, guint32 dst, guint16 dport, guint32 seq,
                       guint32 ack, guint8 flags, const guint8 *payload, guint32 plen) {
    if (npackets >= MAX_PACKETS) return;
    if (plen > MAX_IP_PAYLOAD) plen = MAX_IP_PAYLOAD;
    const guint32 l4 = tcp ? 20 : 8;
    const guint32 len = 20 + l4 + plen;
    guint8 *b = g_malloc0(len);
    b[0] = 0x45;
    put16(b + 2, len);
    b[8] = 64;
    b[9] = tcp ? 6 : 17;
    put32(b + 12, src);
    put32(b + 16, dst);
    guint8 *l = b + 20;
    put16(l, sport);
    put16(l + 2, dport);
    if (tcp) {
        put32(l + 4, seq);
        put32(l + 8, ack);
        l[12] = 0x50;
        l[13] = flags;
        put16(l + 14, 65535);
    } else {
        put16(l + 4, 8 + plen);
    }
    if (plen) memcpy(b + 20 + l4, payload, plen);
    packet_t *p = &packets[npackets++];
    p->bytes = b;
    p->len = len;
    p->ts = now;
}

/* Builds packets[] from the script. */
static void build(const guint8 *data, size_t size) {
    conn_t conns[8];
    memset(conns, 0, sizeof conns);
    now.secs = 1700000000;
    now.nsecs = 0;
    size_t pos = 0;
    /* Skip anything before the first "@@". */
    while (pos + 1 < size && !(data[pos] == '@' && data[pos + 1] == '@')) ++pos;
    while (pos + 1 < size && npackets < MAX_PACKETS) {
        pos += 2;
        size_t eol = pos;
        while (eol < size && data[eol] != '\n') ++eol;
        size_t body = eol < size ? eol + 1 : eol;
        size_t end = body;
        while (end < size && !(data[end] == '\n' && end + 2 < size && data[end + 1] == '@' && data[end + 2] == '@')) ++end;
        gboolean tcp = FALSE, from_server = FALSE, syn = FALSE, fin = FALSE, rst = FALSE, again = FALSE, hole = FALSE;
        int conn = 0, port = 5060, step = 0;
        for (size_t i = pos; i < eol; ++i) {
            const guint8 c = data[i];
            if (c == 't') tcp = TRUE;
            else if (c >= 'A' && c <= 'H') conn = c - 'A';
            else if (c == '<') from_server = TRUE;
            else if (c == '+') syn = TRUE;
            else if (c == '-') fin = TRUE;
            else if (c == '!') rst = TRUE;
            else if (c == '~') again = TRUE;
            else if (c == '?') hole = TRUE;
            else if (c == 'm') port = 2855;
            else if (c == 'k') port = 2000;
            else if (c >= '0' && c <= '9') step = c - '0';
        }
        guint64 ns = (guint64)now.nsecs + step_ns(step);
        now.secs += (time_t)(ns / 1000000000ull);
        now.nsecs = (int)(ns % 1000000000ull);

        conn_t *c = &conns[conn];
        if (!c->used) {
            c->used = TRUE;
            c->port = (guint16)port;
            c->seq[0] = 1000u + 7919u * (guint32)conn;
            c->seq[1] = 500000u + 104729u * (guint32)conn;
        }
        const guint32 client = 0xC000020Au + (guint32)(conn / 4); /* A-D one host, E-H another */
        const guint16 cport = (guint16)(40000 + conn);
        const int dir = from_server ? 1 : 0;
        const guint32 src = dir ? SERVER_IP : client, dst = dir ? client : SERVER_IP;
        const guint16 sport = dir ? c->port : cport, dport = dir ? cport : c->port;
        const guint8 *payload = data + body;
        guint32 plen = (guint32)(end - body > MAX_IP_PAYLOAD ? MAX_IP_PAYLOAD : end - body);
        if (!tcp) {
            add_packet(FALSE, src, sport, dst, dport, 0, 0, 0, payload, plen);
        } else {
            if (syn || !c->open) {
                if (syn || !c->open) {
                    add_packet(TRUE, client, cport, SERVER_IP, c->port, c->seq[0] - 1, 0, 0x02, NULL, 0);
                    add_packet(TRUE, SERVER_IP, c->port, client, cport, c->seq[1] - 1, c->seq[0], 0x12, NULL, 0);
                    add_packet(TRUE, client, cport, SERVER_IP, c->port, c->seq[0], c->seq[1], 0x10, NULL, 0);
                }
                c->open = TRUE;
            }
            if (hole) c->seq[dir] += 100;
            if (again && c->last[dir]) {
                add_packet(TRUE, src, sport, dst, dport, c->last_seq[dir], c->seq[!dir], 0x18, c->last[dir],
                           c->last_len[dir]);
            } else if (rst) {
                add_packet(TRUE, src, sport, dst, dport, c->seq[dir], c->seq[!dir], 0x14, NULL, 0);
                c->open = FALSE;
                c->seq[0] += 50000;
                c->seq[1] += 50000;
            } else {
                if (plen) {
                    add_packet(TRUE, src, sport, dst, dport, c->seq[dir], c->seq[!dir], 0x18, payload, plen);
                    c->last[dir] = payload;
                    c->last_len[dir] = plen;
                    c->last_seq[dir] = c->seq[dir];
                    c->seq[dir] += plen;
                }
                if (fin) {
                    add_packet(TRUE, src, sport, dst, dport, c->seq[dir], c->seq[!dir], 0x11, NULL, 0);
                    c->seq[dir] += 1;
                }
            }
        }
        pos = end < size ? end + 1 : end;
    }
}

/* Counts our items and aborts on our guard's internal_error expert (a C++ exception caught at the epan
 * boundary). A failed DISSECTOR_ASSERT aborts by itself (WIRESHARK_ABORT_ON_DISSECTOR_BUG). Item texts
 * are not searched: they hold the fuzzed bytes, "Dissector bug" among them. */
static void check_item(proto_node *node, gpointer user _U_) {
    field_info *fi = PNODE_FINFO(node);
    if (fi && fi->hfinfo && ours(fi->hfinfo)) {
        ++our_items;
        /* SIPSLEUTH_GLUE_DUMP=1 prints our items, to read what a crash input does. */
        if (fi->rep && dump) fprintf(stderr, "  %s\n", fi->rep->representation);
        const char *abbrev = fi->hfinfo->abbrev;
        const size_t n = strlen(abbrev);
        if (n > 15 && !strcmp(abbrev + n - 15, ".internal_error")) {
            fprintf(stderr, "fuzz_glue: %s: %s\n", abbrev, fi->rep ? fi->rep->representation : "");
            abort();
        }
    }
    proto_tree_children_foreach(node, check_item, NULL);
}

static void dissect(epan_dissect_t *edt, guint i, gboolean first, gboolean columns) {
    packet_t *p = &packets[i];
    wtap_rec rec;
    wtap_rec_init(&rec);
    rec.rec_type = REC_TYPE_PACKET;
    rec.presence_flags = WTAP_HAS_TS | WTAP_HAS_CAP_LEN;
    rec.ts = p->ts;
    rec.tsprec = WTAP_TSPREC_NSEC;
    rec.rec_header.packet_header.caplen = p->len;
    rec.rec_header.packet_header.len = p->len;
    rec.rec_header.packet_header.pkt_encap = WTAP_ENCAP_RAW_IP;
    if (first) {
        static nstime_t elapsed;
        static const frame_data *ref;
        static frame_data *prev;
        static guint32 cum;
        if (i == 0) {
            nstime_set_zero(&elapsed);
            ref = NULL;
            prev = NULL;
            cum = 0;
        }
        frame_data_init(&p->fd, i + 1, &rec, 0, cum);
        frame_data_set_before_dissect(&p->fd, &elapsed, &ref, prev);
        prev = &p->fd;
    }
    tvbuff_t *tvb = tvb_new_real_data(p->bytes, p->len, p->len);
    epan_dissect_run(edt, WTAP_FILE_TYPE_SUBTYPE_UNKNOWN, &rec, tvb, &p->fd, columns ? &cinfo : NULL);
    if (first) {
        static guint32 cum2;
        frame_data_set_after_dissect(&p->fd, &cum2);
    }
    if (columns) epan_dissect_fill_in_columns(edt, FALSE, TRUE);
    if (edt->tree) check_item((proto_node *)edt->tree, NULL);
    epan_dissect_reset(edt);
    wtap_rec_cleanup(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    init_once();
    npackets = 0;
    build(data, size);
    if (npackets == 0) return 0;

    static const struct packet_provider_funcs funcs = {frame_ts, NULL, NULL, NULL};
    epan_t *session = epan_new(NULL, &funcs);

    epan_dissect_t *edt = epan_dissect_new(session, TRUE, FALSE);
    for (guint i = 0; i < npackets; ++i) {
        prime_epan_dissect_with_postdissector_wanted_hfids(edt);
        dissect(edt, i, TRUE, FALSE);
    }
    epan_dissect_free(edt);

    edt = epan_dissect_new(session, TRUE, TRUE);
    for (guint i = 0; i < npackets; ++i) dissect(edt, i, FALSE, TRUE);
    for (guint i = npackets; i-- > 0;) dissect(edt, i, FALSE, TRUE);
    epan_dissect_free(edt);

    epan_free(session);
    for (guint i = 0; i < npackets; ++i) {
        frame_data_destroy(&packets[i].fd);
        g_free(packets[i].bytes);
    }
    return 0;
}
