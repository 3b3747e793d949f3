/* The C ABI's create/destroy path, run under valgrind by the e2e test
 * (crates/server-tokio/tests/client_library.rs): every handle the library
 * hands out is given back, on success and on each failure path, so
 * valgrind must report no definite leak. argv[1] is a URL nothing listens
 * on; argv[2] (optional) a live server's stream URL to publish a tag to. */
#include <stdio.h>
#include <string.h>

#include "rtmp_client.h"

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    /* Bad input: no handle, a message. */
    if (rtmp_client_create(NULL) != NULL) return 1;
    if (rtmp_client_create("http://example/app/stream") != NULL) return 1;
    if (strlen(rtmp_client_last_error()) == 0) return 1;
    rtmp_client_destroy(NULL);

    for (int i = 0; i < 20; i++) {
        rtmp_client_t *c = rtmp_client_create(argv[1]);
        if (!c) return 1;
        rtmp_client_set_timeout(c, 1000, 1000);
        rtmp_client_set_simple_handshake(c, i % 2);
        rtmp_client_enable_enhanced_rtmp(c);
        if (i % 4 == 0 && rtmp_client_handshake(c) != RTMP_CLIENT_ECONNECT) return 1;
        rtmp_client_destroy(c);
    }

    if (argc > 2) {
        rtmp_client_t *c = rtmp_client_create(argv[2]);
        if (!c) return 1;
        int rc = rtmp_client_publish_stream(c);
        /* An AVC sequence header with an empty record is still a tag. */
        static const uint8_t tag[5] = {0x17, 0, 0, 0, 0};
        if (rc == RTMP_CLIENT_OK) rc = rtmp_client_write_packet(c, RTMP_CLIENT_TYPE_VIDEO, 0, tag, 5);
        if (rc == RTMP_CLIENT_OK) rc = rtmp_client_close(c);
        rtmp_client_destroy(c); /* without close too: destroy closes */
        if (rc != RTMP_CLIENT_OK) {
            fprintf(stderr, "publish: %d %s\n", rc, rtmp_client_last_error());
            return 1;
        }
    }
    puts("create/destroy ok");
    return 0;
}
