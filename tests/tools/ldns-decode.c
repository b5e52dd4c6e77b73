/*
 * ldns-decode - prints one DNS message, read in wire format from stdin or a
 * file, as ldns renders it (ldns_pkt2str).
 *
 * The integration tests decode every response of dnsd's own writer with this
 * independent decoder as well as with dnspython, so a bug shared by our writer
 * and one decoder still shows. Exit 0 on success, 1 on I/O errors, 2 when ldns
 * cannot decode the message (the ldns error goes to stderr).
 */
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A DNS message over TCP is at most 65535 bytes (RFC 1035 section 4.2.2);
 * one byte more tells an over-long input apart. */
#define DEC_MAX 65536

static size_t dec_read(FILE *in, uint8_t *buf, int *toolong)
{
    size_t len = 0, n;

    while (len < DEC_MAX && (n = fread(buf + len, 1, DEC_MAX - len, in)) > 0)
        len += n;
    *toolong = len == DEC_MAX;
    return len;
}

int main(int argc, char **argv)
{
    static uint8_t buf[DEC_MAX];
    FILE *in = stdin;
    ldns_pkt *pkt = NULL;
    ldns_status st;
    char *text;
    size_t len;
    int toolong;

    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--help") == 0)) {
        fprintf(stderr, "usage: ldns-decode [FILE]   (wire format in, ldns text out)\n");
        return argc == 2 ? 0 : 1;
    }
    if (argc == 2 && (in = fopen(argv[1], "rb")) == NULL) {
        perror(argv[1]);
        return 1;
    }
    len = dec_read(in, buf, &toolong);
    if (ferror(in) || toolong) {
        fprintf(stderr, "ldns-decode: %s\n",
                toolong ? "input over 65535 bytes" : "read error");
        return 1;
    }
    if (in != stdin)
        fclose(in);
    st = ldns_wire2pkt(&pkt, buf, len);
    if (st != LDNS_STATUS_OK) {
        fprintf(stderr, "ldns-decode: %s\n", ldns_get_errorstr_by_id(st));
        return 2;
    }
    text = ldns_pkt2str(pkt);
    ldns_pkt_free(pkt);
    if (text == NULL) {
        fprintf(stderr, "ldns-decode: out of memory\n");
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return 0;
}
