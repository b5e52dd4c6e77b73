/*
 * stats.c - the table of the workers' counters (see stats.h): what /metrics
 * and dnsdctl STATS call each one.
 */
#include "dnsd/query/stats.h"

#define S(field) offsetof(srv_stats_t, field)

#define Q_HELP "Queries parsed, by transport."
#define QT_HELP "Queries by QTYPE."
#define RC_HELP "Responses by RCODE."
#define DROP_HELP "Packets not answered, or answered FORMERR (malformed), by reason."
#define TCP_HELP "DNS TCP connections by event (closed includes idle_closed)."
#define CK_HELP "Queries by DNS cookie (RFC 7873) result."
#define LIM_HELP "DNS TCP connections refused or closed by an abuse limit."

/* STATS shows the groups in the order of their first row, each with all its
 * rows; /metrics shows the families the same way. */
const stat_desc_t stat_descs[] = {
    {"dnsd_queries_total", Q_HELP, "transport", "udp", "queries", "udp", S(queries[STAT_UDP]), false},
    {"dnsd_queries_total", Q_HELP, "transport", "tcp", "queries", "tcp", S(queries[STAT_TCP]), false},
    {"dnsd_responses_total", RC_HELP, "rcode", "NOERROR", "rcodes", "NOERROR", S(rcode[0]), false},
    {"dnsd_responses_total", RC_HELP, "rcode", "FORMERR", "rcodes", "FORMERR", S(rcode[1]), false},
    {"dnsd_responses_total", RC_HELP, "rcode", "SERVFAIL", "rcodes", "SERVFAIL", S(rcode[2]), false},
    {"dnsd_responses_total", RC_HELP, "rcode", "NXDOMAIN", "rcodes", "NXDOMAIN", S(rcode[3]), false},
    {"dnsd_responses_total", RC_HELP, "rcode", "NOTIMP", "rcodes", "NOTIMP", S(rcode[4]), false},
    {"dnsd_responses_total", RC_HELP, "rcode", "REFUSED", "rcodes", "REFUSED", S(rcode[5]), false},
    {"dnsd_responses_total", RC_HELP, "rcode", "YXDOMAIN", "rcodes", "RCODE6", S(rcode[6]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "YXRRSET", "rcodes", "RCODE7", S(rcode[7]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "NXRRSET", "rcodes", "RCODE8", S(rcode[8]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "NOTAUTH", "rcodes", "RCODE9", S(rcode[9]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "NOTZONE", "rcodes", "RCODE10", S(rcode[10]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "DSOTYPENI", "rcodes", "RCODE11", S(rcode[11]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "RCODE12", "rcodes", "RCODE12", S(rcode[12]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "RCODE13", "rcodes", "RCODE13", S(rcode[13]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "RCODE14", "rcodes", "RCODE14", S(rcode[14]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "RCODE15", "rcodes", "RCODE15", S(rcode[15]), true},
    {"dnsd_responses_total", RC_HELP, "rcode", "BADVERS", "rcodes", "BADVERS", S(badvers), false},
    {"dnsd_packets_dropped_total", DROP_HELP, "reason", "short", "dropped", "short", S(dropped[STAT_DROP_SHORT]), false},
    {"dnsd_packets_dropped_total", DROP_HELP, "reason", "response", "dropped", "response", S(dropped[STAT_DROP_RESPONSE]), false},
    {"dnsd_packets_dropped_total", DROP_HELP, "reason", "malformed", "dropped", "malformed", S(dropped[STAT_MALFORMED]), false},
    {"dnsd_packets_dropped_total", DROP_HELP, "reason", "too_big", "dropped", "too_big", S(dropped[STAT_DROP_TOO_BIG]), false},
    {"dnsd_responses_truncated_total", "UDP responses sent with TC.", NULL, NULL, NULL, "truncated", S(truncated), false},
    {"dnsd_queries_ecs_total", "Queries with a valid EDNS Client Subnet option.", NULL, NULL, NULL, "ecs", S(ecs), false},
    /* /metrics shows these by zone (dnsd_pool_answers_total{zone,backfill}). */
    {NULL, NULL, NULL, NULL, NULL, "pool_answers", S(pool_answers), false},
    {NULL, NULL, NULL, NULL, NULL, "pool_backfill", S(pool_backfill), false},
    {"dnsd_pool_answers_empty_total", "Pool names answered NODATA: no eligible server.", NULL, NULL, NULL, "pool_empty", S(pool_empty), false},
    {"dnsd_nts_srv_answers_total", "SRV answers at NTS names (_ntske._tcp) with at least one record.", NULL, NULL, NULL, "nts_answers", S(nts_answers), false},
    {"dnsd_nts_srv_answers_empty_total", "NTS names answered NODATA: no NTS-KE endpoint with an eligible server.", NULL, NULL, NULL, "nts_empty", S(nts_empty), false},
    {"dnsd_tcp_connections_total", TCP_HELP, "event", "accepted", "tcp", "accepted", S(tcp_accepted), false},
    {"dnsd_tcp_connections_total", TCP_HELP, "event", "closed", "tcp", "closed", S(tcp_closed), false},
    {"dnsd_tcp_connections_total", TCP_HELP, "event", "refused", "tcp", "refused", S(tcp_refused), false},
    {"dnsd_tcp_connections_total", TCP_HELP, "event", "idle_closed", "tcp", "idle_closed", S(tcp_idle_closed), false},
    {"dnsd_packets_dropped_total", DROP_HELP, "reason", "udp_send_error", NULL, "udp_send_errors", S(udp_send_errors), false},
    {"dnsd_queries_by_qtype_total", QT_HELP, "qtype", "A", "by_qtype", "A", S(by_qtype[STAT_QT_A]), false},
    {"dnsd_queries_by_qtype_total", QT_HELP, "qtype", "NS", "by_qtype", "NS", S(by_qtype[STAT_QT_NS]), false},
    {"dnsd_queries_by_qtype_total", QT_HELP, "qtype", "CNAME", "by_qtype", "CNAME", S(by_qtype[STAT_QT_CNAME]), false},
    {"dnsd_queries_by_qtype_total", QT_HELP, "qtype", "SOA", "by_qtype", "SOA", S(by_qtype[STAT_QT_SOA]), false},
    {"dnsd_queries_by_qtype_total", QT_HELP, "qtype", "TXT", "by_qtype", "TXT", S(by_qtype[STAT_QT_TXT]), false},
    {"dnsd_queries_by_qtype_total", QT_HELP, "qtype", "AAAA", "by_qtype", "AAAA", S(by_qtype[STAT_QT_AAAA]), false},
    {"dnsd_queries_by_qtype_total", QT_HELP, "qtype", "ANY", "by_qtype", "ANY", S(by_qtype[STAT_QT_ANY]), false},
    {"dnsd_queries_by_qtype_total", QT_HELP, "qtype", "other", "by_qtype", "other", S(by_qtype[STAT_QT_OTHER]), false},
    {"dnsd_dnstap_dropped_total", "dnstap messages lost (queue full or message too big).", NULL, NULL, NULL, "dnstap_dropped", S(dnstap_dropped), false},
    {"dnsd_rrl_dropped_total", "UDP responses withheld by RRL.", NULL, NULL, "rrl", "dropped", S(rrl_dropped), false},
    {"dnsd_rrl_slipped_total", "Rate-limited UDP responses sent truncated (slip).", NULL, NULL, "rrl", "slipped", S(rrl_slipped), false},
    /* Label order = cookie_result_t. */
    {"dnsd_cookies_total", CK_HELP, "result", "none", "cookies", "none", S(cookies[0]), false},
    {"dnsd_cookies_total", CK_HELP, "result", "client_only", "cookies", "client_only", S(cookies[1]), false},
    {"dnsd_cookies_total", CK_HELP, "result", "valid", "cookies", "valid", S(cookies[2]), false},
    {"dnsd_cookies_total", CK_HELP, "result", "invalid", "cookies", "invalid", S(cookies[3]), false},
    {"dnsd_tcp_limit_closed_total", LIM_HELP, "reason", "per_client", "tcp_limits", "per_client", S(tcp_client_refused), false},
    {"dnsd_tcp_limit_closed_total", LIM_HELP, "reason", "read_timeout", "tcp_limits", "read_timeout", S(tcp_read_timeouts), false},
    {"dnsd_tcp_limit_closed_total", LIM_HELP, "reason", "write_timeout", "tcp_limits", "write_timeout", S(tcp_write_timeouts), false},
    {"dnsd_tcp_limit_closed_total", LIM_HELP, "reason", "large_message", "tcp_limits", "large_message", S(tcp_large_refused), false},
};

const size_t stat_n_descs = sizeof stat_descs / sizeof stat_descs[0];
