/* Publishes an FLV file to an RTMP URL at the file's own pace, with the
 * rtmp-client C library (srs-librtmp's successor).
 *
 *   cc -o publish_flv publish_flv.c -I../../include -L<target>/debug -lrtmp_client -lpthread -ldl -lm
 *   ./publish_flv in.flv rtmp://127.0.0.1/live/stream
 *
 * An FLV file is a 9-byte header, a 4-byte PreviousTagSize0, then tags: an
 * 11-byte header (type, 24-bit size, 24-bit timestamp plus an 8-bit
 * extension, 24-bit stream id), the body, and a 4-byte PreviousTagSize
 * (FLV spec v10.1 E.2, E.4.1). Each tag body is an RTMP message body, so it
 * goes to rtmp_client_write_packet() as it is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtmp_client.h"

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int read_exact(FILE *f, unsigned char *buf, size_t len) {
    return fread(buf, 1, len, f) == len ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE.flv rtmp://host[:port]/app/stream\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    unsigned char header[13];
    if (read_exact(f, header, sizeof header) != 0 || memcmp(header, "FLV", 3) != 0) {
        fprintf(stderr, "%s: not an FLV file\n", argv[1]);
        fclose(f);
        return 1;
    }

    rtmp_client_t *client = rtmp_client_create(argv[2]);
    if (!client) {
        fprintf(stderr, "create: %s\n", rtmp_client_last_error());
        fclose(f);
        return 1;
    }
    int rc = rtmp_client_set_timeout(client, 5000, 5000);
    /* The steps one by one, as srs-librtmp users write them; publish alone
     * would take the earlier ones itself. */
    if (rc == RTMP_CLIENT_OK) rc = rtmp_client_handshake(client);
    if (rc == RTMP_CLIENT_OK) rc = rtmp_client_connect_app(client);
    if (rc == RTMP_CLIENT_OK) rc = rtmp_client_publish_stream(client);
    if (rc != RTMP_CLIENT_OK) {
        fprintf(stderr, "publish: %d %s\n", rc, rtmp_client_last_error());
        rtmp_client_destroy(client);
        fclose(f);
        return 1;
    }

    long long start = now_ms();
    unsigned long tags = 0;
    unsigned char *body = NULL;
    size_t capacity = 0;
    for (;;) {
        unsigned char th[11];
        if (read_exact(f, th, sizeof th) != 0) break; /* end of file */
        uint8_t type = th[0] & 0x1f;
        uint32_t size = ((uint32_t)th[1] << 16) | ((uint32_t)th[2] << 8) | th[3];
        uint32_t ts = ((uint32_t)th[7] << 24) | ((uint32_t)th[4] << 16) | ((uint32_t)th[5] << 8) | th[6];
        if (size > capacity) {
            unsigned char *grown = realloc(body, size);
            if (!grown) { rc = -1; break; }
            body = grown;
            capacity = size;
        }
        unsigned char pts[4];
        if (read_exact(f, body, size) != 0 || read_exact(f, pts, sizeof pts) != 0) break;
        if (type != RTMP_CLIENT_TYPE_AUDIO && type != RTMP_CLIENT_TYPE_VIDEO &&
            type != RTMP_CLIENT_TYPE_SCRIPT) {
            continue;
        }
        /* Send each tag when its timestamp comes due, as a live encoder would. */
        long long wait = (long long)ts - (now_ms() - start);
        if (wait > 0) sleep_ms(wait);
        rc = rtmp_client_write_packet(client, type, ts, body, size);
        if (rc != RTMP_CLIENT_OK) {
            fprintf(stderr, "write: %d %s\n", rc, rtmp_client_last_error());
            break;
        }
        tags++;
    }
    free(body);
    fclose(f);
    int closed = rtmp_client_close(client);
    rtmp_client_destroy(client);
    fprintf(stderr, "published %lu tags\n", tags);
    return rc == RTMP_CLIENT_OK && closed == RTMP_CLIENT_OK ? 0 : 1;
}
