/* Plays an RTMP stream into an FLV file for some seconds, with the
 * rtmp-client C library (srs-librtmp's successor).
 *
 *   cc -o play_flv play_flv.c -I../../include -L<target>/debug -lrtmp_client -lpthread -ldl -lm
 *   ./play_flv rtmp://127.0.0.1/live/stream out.flv 10
 *
 * Each packet read is one FLV tag body; the file gets the FLV header and,
 * per packet, the 11-byte tag header, the body and the PreviousTagSize
 * (FLV spec v10.1 E.2, E.4.1). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rtmp_client.h"

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_u24(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 16);
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)v;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s rtmp://host[:port]/app/stream OUT.flv [SECONDS]\n", argv[0]);
        return 2;
    }
    long long seconds = argc > 3 ? atoll(argv[3]) : 10;
    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    /* Signature, version 1, audio and video present, header size 9, then
     * PreviousTagSize0. */
    static const unsigned char flv_header[13] = {'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0};
    fwrite(flv_header, 1, sizeof flv_header, out);

    rtmp_client_t *client = rtmp_client_create(argv[1]);
    if (!client) {
        fprintf(stderr, "create: %s\n", rtmp_client_last_error());
        fclose(out);
        return 1;
    }
    int rc = rtmp_client_set_timeout(client, 3000, 3000);
    if (rc == RTMP_CLIENT_OK) rc = rtmp_client_play_stream(client);
    if (rc != RTMP_CLIENT_OK) {
        fprintf(stderr, "play: %d %s\n", rc, rtmp_client_last_error());
        rtmp_client_destroy(client);
        fclose(out);
        return 1;
    }

    long long end = now_ms() + seconds * 1000;
    unsigned long tags = 0;
    while (now_ms() < end) {
        uint8_t type;
        uint32_t ts, size;
        const uint8_t *data;
        rc = rtmp_client_read_packet(client, &type, &ts, &data, &size);
        /* The server hung up, or the stream went quiet for the receive
         * timeout after it had played (its publisher stopped): done. */
        if (rc == RTMP_CLIENT_ECLOSED || (rc == RTMP_CLIENT_ETIMEOUT && tags > 0)) {
            rc = RTMP_CLIENT_OK;
            break;
        }
        if (rc != RTMP_CLIENT_OK) {
            fprintf(stderr, "read: %d %s\n", rc, rtmp_client_last_error());
            break;
        }
        unsigned char th[11] = {0};
        th[0] = type;
        put_u24(th + 1, size);
        put_u24(th + 4, ts & 0xffffff);
        th[7] = (unsigned char)(ts >> 24);
        uint32_t previous = 11 + size;
        unsigned char pts[4] = {(unsigned char)(previous >> 24), (unsigned char)(previous >> 16),
                                (unsigned char)(previous >> 8), (unsigned char)previous};
        fwrite(th, 1, sizeof th, out);
        fwrite(data, 1, size, out); /* lent by the library until the next call */
        fwrite(pts, 1, sizeof pts, out);
        tags++;
    }
    fclose(out);
    rtmp_client_close(client);
    rtmp_client_destroy(client);
    fprintf(stderr, "recorded %lu tags\n", tags);
    return rc == RTMP_CLIENT_OK ? 0 : 1;
}
