/*
 * test_json.c - the strict JSON reader of pushed files (zones/json.c): the
 * token stream of a document with every kind of value, lines and columns
 * (columns count characters, not bytes), escapes decoded, the nesting bound
 * exactly at its limit, errors sticky, and the whole input required to be one
 * value.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "zones/zones.h"

/* Reads `text` to its end and writes one line per token, "L:C TYPE text". */
static int tokens(const char *text, unsigned depth, char *out, size_t cap)
{
    zone_json_t j;
    zone_json_token_t t;
    size_t n = 0;
    int type;

    zone_json_init(&j, text, strlen(text), depth);
    do {
        type = zone_json_next(&j, &t);
        n += (size_t)snprintf(out + n, cap - n, "%u:%u %d %s\n", t.line, t.col, type,
                              type == ZONE_JSON_ERROR ? j.err
                              : t.text                ? t.text
                                                      : "");
    } while (type > 0 && n < cap);
    zone_json_deinit(&j);
    return type;
}

static void test_stream(void)
{
    char out[2048];
    const char *text =
        "{\"a\": [1, -2.5e3, true, false, null],\n"
        " \"\xc3\xa9t\xc3\xa9\": \"x\\u00e9\\ud83d\\ude00\\n\\\"\", \"e\": {}}";

    CHECK_INT_EQ(tokens(text, 32, out, sizeof out), ZONE_JSON_END);
    CHECK_STR_EQ(out, "1:1 1 \n"
                      "1:2 5 a\n"
                      "1:7 3 \n"
                      "1:8 7 1\n"
                      "1:11 7 -2.5e3\n"
                      "1:19 8 true\n"
                      "1:25 9 false\n"
                      "1:32 10 null\n"
                      "1:36 4 \n"
                      "2:2 5 \xc3\xa9t\xc3\xa9\n"
                      /* "été" is three characters, so the value starts at column 9. */
                      "2:9 6 x\xc3\xa9\xf0\x9f\x98\x80\n\"\n"
                      "2:36 5 e\n"
                      "2:41 1 \n"
                      "2:42 2 \n"
                      "2:43 2 \n"
                      "2:44 0 \n");
}

/* max_depth levels are read; one more is refused where it opens. */
static void test_depth(void)
{
    char text[200], out[8192];
    zone_json_t j;

    for (unsigned d = 31; d <= 33; d++) {
        memset(text, '[', d);
        memset(text + d, ']', d);
        text[2 * d] = '\0';
        int type = tokens(text, ZONE_JSON_DEPTH, out, sizeof out);
        CHECK_INT_EQ(type, d <= 32 ? ZONE_JSON_END : ZONE_JSON_ERROR);
        if (d == 33)
            CHECK_STR_HAS(out, "1:33 -1 nested deeper than 32 levels\n");
    }
    /* The bound is clamped to what the reader can track. */
    zone_json_init(&j, "[]", 2, 1000);
    CHECK_INT_EQ(j.max_depth, ZONE_JSON_DEPTH_MAX);
    zone_json_deinit(&j);
    /* Objects and arrays interleaved: the closing brackets must match. */
    CHECK_INT_EQ(tokens("{\"a\": [{\"b\": [1]}]}", 4, out, sizeof out), ZONE_JSON_END);
    CHECK_INT_EQ(tokens("{\"a\": [{\"b\": [1]]}]}", 4, out, sizeof out), ZONE_JSON_ERROR);
    CHECK_STR_HAS(out, "1:17 -1 unexpected ']', expected ',' or '}'");
    CHECK_INT_EQ(tokens("{\"a\": [{\"b\": [1]}]}", 3, out, sizeof out), ZONE_JSON_ERROR);
}

/* An error is returned again on every later call; END likewise. */
static void test_sticky(void)
{
    zone_json_t j;
    zone_json_token_t t;

    zone_json_init(&j, "[1 2]", 5, 8);
    CHECK_INT_EQ(zone_json_next(&j, &t), ZONE_JSON_ARRAY);
    CHECK_INT_EQ(zone_json_next(&j, &t), ZONE_JSON_NUMBER);
    CHECK_INT_EQ(zone_json_next(&j, &t), ZONE_JSON_ERROR);
    CHECK_INT_EQ(zone_json_next(&j, &t), ZONE_JSON_ERROR);
    CHECK_STR_EQ(j.err, "unexpected '2', expected ',' or ']'");
    CHECK_INT_EQ(j.err_col, 4);
    zone_json_deinit(&j);
    zone_json_init(&j, "7 ", 2, 8);
    CHECK_INT_EQ(zone_json_next(&j, &t), ZONE_JSON_NUMBER);
    CHECK_INT_EQ(zone_json_next(&j, &t), ZONE_JSON_END);
    CHECK_INT_EQ(zone_json_next(&j, &t), ZONE_JSON_END);
    zone_json_deinit(&j);
    /* Not NUL-terminated: the reader stops at len. */
    zone_json_init(&j, "123456", 3, 8);
    CHECK_INT_EQ(zone_json_next(&j, &t), ZONE_JSON_NUMBER);
    CHECK_STR_EQ(t.text, "123");
    CHECK_INT_EQ(zone_json_next(&j, &t), ZONE_JSON_END);
    zone_json_deinit(&j);
}

/* Accepted and refused scalars at the top level (RFC 8259 allows any value). */
static void test_scalars(void)
{
    static const char *const good[] = {"0",
                                       "-0",
                                       "0.5",
                                       "1E+2",
                                       "1e-2",
                                       "\"\"",
                                       "\"\\/\\b\\f\\r\\t\"",
                                       "\"\x7f\"",
                                       "\"\xf4\x8f\xbf\xbf\"",
                                       "\"\xe0\xa0\x80\""};
    static const char *const bad[] = {"-",
                                      "1.",
                                      "01",
                                      "1e+",
                                      "0x1",
                                      "Infinity",
                                      "True",
                                      "nul",
                                      "'a'",
                                      "\"a",
                                      "\"\\u12\"",
                                      "\"\\udc00\"",
                                      "\"\xf4\x90\x80\x80\"",
                                      "\"\xe0\x9f\xbf\"",
                                      "\"\xc1\xbf\"",
                                      "\"\x80\"",
                                      "\"\xf5\"",
                                      "",
                                      "1 2",
                                      "[1,]",
                                      "{\"a\"}",
                                      "{\"a\" 1}",
                                      "{1: 2}",
                                      "[1}",
                                      "\"\x01\""};
    char out[512];

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        check_count++;
        if (tokens(good[i], 8, out, sizeof out) != ZONE_JSON_END) {
            check_failures++;
            fprintf(stderr, "refused: %s: %s", good[i], out);
        }
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        check_count++;
        if (tokens(bad[i], 8, out, sizeof out) != ZONE_JSON_ERROR) {
            check_failures++;
            fprintf(stderr, "accepted: %s: %s", bad[i], out);
        }
    }
}

int main(void)
{
    test_stream();
    test_depth();
    test_sticky();
    test_scalars();
    return check_summary("test_json");
}
