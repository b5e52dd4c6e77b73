/*
 * test_metrics.c - the Prometheus renderer and the /metrics request parser
 * (dnsd/control/metrics.c): exact lines for known counters, label escaping, and every
 * class of request head.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dnsd/control/metrics.h"

static metrics_req_t parse(const char *s, size_t max)
{
    metrics_request_t r;
    metrics_req_parse((const uint8_t *)s, strlen(s), max, &r);
    return r.result;
}

static void test_http(void)
{
    metrics_request_t r;
    CHECK_INT_EQ(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 8192),
                 METRICS_REQ_METRICS);
    CHECK_INT_EQ(parse("GET /metrics?x=1 HTTP/1.0\n\n", 8192), METRICS_REQ_METRICS);
    CHECK_INT_EQ(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", 8192), METRICS_REQ_MORE);
    CHECK_INT_EQ(parse("GET /metr", 8192), METRICS_REQ_MORE);
    CHECK_INT_EQ(parse("", 8192), METRICS_REQ_MORE);
    CHECK_INT_EQ(parse("GET / HTTP/1.1\r\n\r\n", 8192), METRICS_REQ_NOT_FOUND);
    CHECK_INT_EQ(parse("GET /metricsx HTTP/1.1\r\n\r\n", 8192), METRICS_REQ_NOT_FOUND);
    CHECK_INT_EQ(parse("POST /metrics HTTP/1.1\r\n\r\n", 8192), METRICS_REQ_BAD_METHOD);
    CHECK_INT_EQ(parse("get /metrics HTTP/1.1\r\n\r\n", 8192), METRICS_REQ_BAD_METHOD);
    CHECK_INT_EQ(parse("GET /metrics HTTP/2.0\r\n\r\n", 8192), METRICS_REQ_BAD_VERSION);
    CHECK_INT_EQ(parse("GET /metrics FTP/1.1\r\n\r\n", 8192), METRICS_REQ_BAD_REQUEST);
    CHECK_INT_EQ(parse("GET metrics HTTP/1.1\r\n\r\n", 8192), METRICS_REQ_BAD_REQUEST);
    CHECK_INT_EQ(parse("GET  /metrics HTTP/1.1\r\n\r\n", 8192), METRICS_REQ_BAD_REQUEST);
    CHECK_INT_EQ(parse("\r\n\r\n", 8192), METRICS_REQ_BAD_REQUEST);
    CHECK_INT_EQ(parse("GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n", 8192),
                 METRICS_REQ_BAD_REQUEST);
    CHECK_INT_EQ(parse("GET /metrics HTTP/1.1\r\n: v\r\n\r\n", 8192),
                 METRICS_REQ_BAD_REQUEST);
    CHECK_INT_EQ(parse("GET /metrics HTTP/1.1\r\nA: \x01\r\n\r\n", 8192),
                 METRICS_REQ_BAD_REQUEST);
    CHECK_INT_EQ(parse("GET /metrics HTTP/1.1\r\nA:\tb\r\n\r\n", 8192),
                 METRICS_REQ_METRICS);
    /* The head limit: complete within it, or 431 once it is reached. */
    CHECK_INT_EQ(parse("GET /metrics HTTP/1.1\r\n\r\n", 25), METRICS_REQ_METRICS);
    CHECK_INT_EQ(parse("GET /metrics HTTP/1.1\r\n\r\n", 24), METRICS_REQ_TOO_LARGE);
    CHECK_INT_EQ(parse("GET /metrics HTTP/1.1\r\nX: 1234", 16), METRICS_REQ_TOO_LARGE);
    /* A NUL inside the head is a control byte, never a terminator. */
    const uint8_t nul[] = "GET /metrics HTTP/1.1\r\nA: b\0c\r\n\r\n";
    metrics_req_parse(nul, sizeof nul - 1, 8192, &r);
    CHECK_INT_EQ(r.result, METRICS_REQ_BAD_REQUEST);
    metrics_req_parse((const uint8_t *)"HEAD /metrics HTTP/1.1\r\n\r\n", 26, 8192, &r);
    CHECK_INT_EQ(r.result, METRICS_REQ_METRICS);
    CHECK(r.head);

    char hdr[256];
    size_t n = metrics_req_head(METRICS_REQ_METRICS, 1234, hdr, sizeof hdr);
    CHECK_INT_EQ(n, strlen(hdr));
    CHECK_STR_HAS(hdr, "HTTP/1.1 200 OK\r\n");
    CHECK_STR_HAS(hdr, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
    CHECK_STR_HAS(hdr, "Content-Length: 1234\r\n");
    CHECK_STR_HAS(hdr, "Connection: close\r\n\r\n");
    metrics_req_head(METRICS_REQ_BAD_METHOD, 0, hdr, sizeof hdr);
    CHECK_STR_HAS(hdr, "HTTP/1.1 405 Method Not Allowed\r\n");
    CHECK_STR_HAS(hdr, "Allow: GET, HEAD\r\n");
    metrics_req_head(METRICS_REQ_NOT_FOUND, 10, hdr, sizeof hdr);
    CHECK_STR_HAS(hdr, "HTTP/1.1 404 Not Found\r\n");
    CHECK_INT_EQ(metrics_req_head(METRICS_REQ_METRICS, 1, hdr, 20), 0);
    CHECK_INT_EQ(metrics_req_status(METRICS_REQ_TOO_LARGE), 431);
    CHECK_INT_EQ(metrics_req_status(METRICS_REQ_BAD_VERSION), 505);
}

/* STATS from the same snapshot: the same rows, at their STATS homes. */
static void check_json(const metrics_snap_t *s)
{
    strbuf_t b = {0};
    metrics_render_json((const metrics_table_t *const[]){&metrics_core}, 1, s, &b);
    char *out = strbuf_take(&b);
    CHECK(out != NULL);
    if (!out)
        return;
    static const char *const want[] = {
        "{\"queries\": {\"udp\": 10, \"tcp\": 2}, \"rcodes\": {\"NOERROR\": 0, ",
        "\"NXDOMAIN\": 4, ",
        "\"BADVERS\": 1}, \"dropped\": {\"short\": 0, \"response\": 0, \"malformed\": "
        "2, ",
        "\"udp_send_errors\": 0, ",
        "\"rrl\": {\"dropped\": 0, \"slipped\": 0}, ",
        "\"pool_answers\": 0, \"pool_backfill\": 0, ",
        "\"by_zone\": {\"pool.ntp.org\": 11, \"we\\\"ird\\\\zone\": 0, \"none\": 1}, ",
        "\"pool_answers_total\": {\"@\": {\"false\": 0, \"true\": 0}, \"de\": {\"true\": "
        "5}}, ",
        "\"tcp_connections_open\": 2, ",
        "\"control\": {\"connections\": {\"unix\": 8, \"tcp\": 0, \"refused\": 0, "
        "\"idle_closed\": 0}, \"limits\": {}, \"requests\": {\"push\": 1, \"status\": 2, "
        "\"reload\": 3, \"stats\": 4}, \"refused\": {\"bad_mac\": 6}, \"push_ok\": 12, "
        "\"push_refused\": 3, \"reload_ok\": 0, \"reload_failed\": 1, \"last_push_ms\": "
        "{\"parse\": 0.000, ",
        "\"control_pushes_total\": {\"accepted\": 12, \"payload\": 0, ",
        "\"serial_not_newer\": 3, ",
        "\"reloads_total\": {\"ok\": 0, \"failed\": 1}, ",
        "\"last_reload_timestamp_seconds\": 2000.000, \"last_reload_success\": 1, ",
        "\"zone_serial\": {\"pool.ntp.org\": 42}, ",
        "\"zone_servers\": {\"pool.ntp.org\": {\"ipv4\": {\"all\": 100, \"eligible\": "
        "90}, "
        "\"ipv6\": {\"all\": 20, \"eligible\": 10}}, ",
        "\"control_push_duration_seconds\": {\"accepted\": {\"buckets\": {\"0.001\": 1, "
        "\"0.0025\": 1, \"0.005\": 2, ",
        "\"30\": 3, \"+Inf\": 4}, \"sum\": 50.005500, \"count\": 4}, \"refused\": ",
        "\"zone_snapshot_timestamp_seconds\": {\"pool.ntp.org\": 1700000000.250}, ",
        "\"dnssec_signature_expiry_seconds\": {}, ",
        "\"build_info\": {\"1.2.3\": 1}, \"workers\": 4, \"start_time_seconds\": "
        "1000.500, ",
        "\"metrics_requests_total\": {\"200\": 0, \"400\": 0, \"404\": 5, ",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        CHECK_STR_HAS(out, want[i]);
    CHECK(out[strlen(out) - 1] == '}');
    free(out);
}

/* Every family of the workers' table is in the control layer's table, with
 * the label its rows name. */
static void test_table(void)
{
    for (size_t i = 0; i < stat_n_descs; i++) {
        const stat_desc_t *d = &stat_descs[i];
        const metrics_family_t *f = NULL;
        for (size_t k = 0; d->metric && k < metrics_core.n; k++)
            if (strcmp(metrics_core.fam[k].name, d->metric) == 0)
                f = &metrics_core.fam[k];
        CHECK(!d->metric || f != NULL);
        if (!f)
            continue;
        CHECK(f->labels[0] == NULL ? d->label == NULL
                                   : d->label && strcmp(f->labels[0], d->label) == 0);
    }
    /* Names are unique, so no family hides another's rows. */
    for (size_t i = 0; i < metrics_core.n; i++)
        for (size_t k = i + 1; k < metrics_core.n; k++)
            CHECK(strcmp(metrics_core.fam[i].name, metrics_core.fam[k].name) != 0);
}

static void test_render(void)
{
    static stat_counters_t st;
    st.queries[STAT_UDP] = 10;
    st.queries[STAT_TCP] = 2;
    st.by_origin[0] = 11;
    st.by_origin[STAT_ORIGINS - 1] = 1;
    st.by_qtype[STAT_QT_AAAA] = 7;
    st.rcode[3] = 4;
    st.badvers = 1;
    st.dropped[STAT_MALFORMED] = 2;
    st.pool_by_zone[zone_id_lookup("de", 2)][1] = 5;
    st.tcp_accepted = 3;
    st.tcp_closed = 1;
    st.ecs = 9;
    metrics_origin_t o[2] = {{.name = "pool.ntp.org",
                              .has_pool = true,
                              .serial = 42,
                              .snapshot_time = 1700000000.25,
                              .servers = {{100, 90}, {20, 10}},
                              .state_errors = 2},
                             {.name = "we\"ird\\zone", .has_pool = false}};
    metrics_label_count_t fr[1] = {{"bad_mac", 6}};
    metrics_snap_t s = {.version = "1.2.3",
                        .workers = 4,
                        .start_time = 1000.5,
                        .last_reload_time = 2000,
                        .last_reload_ok = true,
                        .st = &st,
                        .origins = o,
                        .n_origins = 2,
                        .ctl_conns_unix = 8,
                        .ctl_requests = {1, 2, 3, 4},
                        .frames_refused = fr,
                        .n_frames_refused = 1,
                        .push_ok = 12,
                        .reload_failed = 1,
                        .state_temp_removed = 3};
    s.push_refused[METRICS_PUSH_STALE] = 3;
    /* Bounds are inclusive (le); beyond the last one only +Inf counts it. */
    metrics_hist_observe(&s.push_duration[0], 0.0005);
    metrics_hist_observe(&s.push_duration[0], 0.005);
    metrics_hist_observe(&s.push_duration[0], 10);
    metrics_hist_observe(&s.push_duration[0], 40);
    s.http_requests[2] = 5;
    char *out = NULL;
    size_t len = 0;
    CHECK_INT_EQ(metrics_render((const metrics_table_t *const[]){&metrics_core}, 1, &s,
                                &out, &len),
                 0);
    CHECK_INT_EQ(len, strlen(out));
    static const char *const want[] = {
        "# TYPE dnsd_queries_total counter\n",
        "\ndnsd_queries_total{transport=\"udp\"} 10\n",
        "\ndnsd_queries_total{transport=\"tcp\"} 2\n",
        "\ndnsd_queries_by_zone_total{zone=\"pool.ntp.org\"} 11\n",
        "\ndnsd_queries_by_zone_total{zone=\"we\\\"ird\\\\zone\"} 0\n",
        "\ndnsd_queries_by_zone_total{zone=\"none\"} 1\n",
        "\ndnsd_queries_by_qtype_total{qtype=\"AAAA\"} 7\n",
        "\ndnsd_queries_by_qtype_total{qtype=\"other\"} 0\n",
        "\ndnsd_queries_ecs_total 9\n",
        "\ndnsd_responses_total{rcode=\"NXDOMAIN\"} 4\n",
        "\ndnsd_responses_total{rcode=\"BADVERS\"} 1\n",
        "\ndnsd_pool_answers_total{zone=\"de\",backfill=\"true\"} 5\n",
        "\ndnsd_pool_answers_total{zone=\"@\",backfill=\"false\"} 0\n",
        "\ndnsd_packets_dropped_total{reason=\"malformed\"} 2\n",
        "\ndnsd_tcp_connections_total{event=\"accepted\"} 3\n",
        "\ndnsd_tcp_connections_open 2\n",
        "\ndnsd_control_connections_total{socket=\"unix\"} 8\n",
        "\ndnsd_control_requests_total{type=\"stats\"} 4\n",
        "\ndnsd_control_frames_refused_total{reason=\"bad_mac\"} 6\n",
        "\ndnsd_control_pushes_total{result=\"accepted\"} 12\n",
        "\ndnsd_control_pushes_total{result=\"serial_not_newer\"} 3\n",
        "\ndnsd_reloads_total{result=\"failed\"} 1\n",
        "\ndnsd_last_reload_timestamp_seconds 2000.000\n",
        "\ndnsd_last_reload_success 1\n",
        "\ndnsd_zone_serial{zone=\"pool.ntp.org\"} 42\n",
        ("\ndnsd_zone_servers{zone=\"pool.ntp.org\",family=\"ipv6\",state=\"eligible\"} "
         "10\n"),
        "\ndnsd_zone_servers{zone=\"pool.ntp.org\",family=\"ipv4\",state=\"all\"} 100\n",
        "\ndnsd_state_load_errors_total{zone=\"pool.ntp.org\"} 2\n",
        "\ndnsd_state_load_errors_total{zone=\"we\\\"ird\\\\zone\"} 0\n",
        "\ndnsd_state_temp_files_removed_total 3\n",
        "# TYPE dnsd_control_push_duration_seconds histogram\n",
        "\ndnsd_control_push_duration_seconds_bucket{result=\"accepted\",le=\"0.001\"} "
        "1\n",
        "\ndnsd_control_push_duration_seconds_bucket{result=\"accepted\",le=\"0.0025\"} "
        "1\n",
        "\ndnsd_control_push_duration_seconds_bucket{result=\"accepted\",le=\"0.005\"} "
        "2\n",
        "\ndnsd_control_push_duration_seconds_bucket{result=\"accepted\",le=\"5\"} 2\n",
        "\ndnsd_control_push_duration_seconds_bucket{result=\"accepted\",le=\"10\"} 3\n",
        "\ndnsd_control_push_duration_seconds_bucket{result=\"accepted\",le=\"30\"} 3\n",
        "\ndnsd_control_push_duration_seconds_bucket{result=\"accepted\",le=\"+Inf\"} "
        "4\n",
        "\ndnsd_control_push_duration_seconds_sum{result=\"accepted\"} 50.005500\n",
        "\ndnsd_control_push_duration_seconds_count{result=\"accepted\"} 4\n",
        "\ndnsd_control_push_duration_seconds_bucket{result=\"refused\",le=\"+Inf\"} 0\n",
        "\ndnsd_control_push_duration_seconds_count{result=\"refused\"} 0\n",
        "\ndnsd_zone_snapshot_timestamp_seconds{zone=\"pool.ntp.org\"} 1700000000.250\n",
        "\ndnsd_build_info{version=\"1.2.3\"} 1\n",
        "\ndnsd_workers 4\n",
        "\ndnsd_start_time_seconds 1000.500\n",
        "\ndnsd_metrics_requests_total{code=\"404\"} 5\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        CHECK_STR_HAS(out, want[i]);
    /* A zone without a snapshot has no serial line. */
    CHECK(strstr(out, "dnsd_zone_serial{zone=\"we") == NULL);
    CHECK(strstr(out, "dnsd_zone_snapshot_timestamp_seconds{zone=\"we") == NULL);
    /* Every non-comment line is NAME{...} VALUE or NAME VALUE; every family
     * has HELP and TYPE before its samples. */
    int families = 0, samples = 0;
    for (char *line = out; *line;) {
        char *nl = strchr(line, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        if (!strncmp(line, "# TYPE ", 7))
            families++;
        else if (line[0] != '#') {
            samples++;
            CHECK(!strncmp(line, "dnsd_", 5));
            char *sp = memrchr(line, ' ', (size_t)(nl - line));
            CHECK(sp && sp + 1 < nl);
        }
        line = nl + 1;
    }
    CHECK(families >= 20);
    CHECK(samples > families);
    CHECK_STR_EQ(metrics_push_reason_name(METRICS_PUSH_INVALID), "invalid_snapshot");
    free(out);
    check_json(&s);
}

int main(void)
{
    test_http();
    test_render();
    test_table();
    return check_summary("test_metrics");
}
