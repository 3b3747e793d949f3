/* Publishes encoder output, not FLV: an H.264 Annex-B elementary stream and
 * an AAC ADTS stream, frame by frame at their own pace, with the
 * rtmp-client C library's frame calls (srs-librtmp's
 * srs_h264_write_raw_frames / srs_audio_write_raw_frame).
 *
 *   ffmpeg -f lavfi -i testsrc2=rate=25 -t 2 -c:v libx264 -x264-params aud=1:bframes=0 -f h264 in.h264
 *   ffmpeg -f lavfi -i sine -t 2 -c:a aac -f adts in.aac
 *   cc -o publish_frames publish_frames.c -I../../include <target>/debug/librtmp_client.a -lpthread -ldl -lm
 *   ./publish_frames in.h264 in.aac rtmp://127.0.0.1/live/stream [FPS]
 *
 * Video: one access unit per rtmp_client_write_video_frame() call. Access
 * units are cut at access unit delimiters (NAL type 9, H.264 7.3.2.4), so
 * the stream must carry them (x264's aud=1) and have no B-frames (the
 * decode time is used as the presentation time). The SPS/PPS in the first
 * access unit become the AVC sequence header inside the library.
 *
 * Audio: each ADTS frame (ISO 14496-3 1.A.2) is stripped to its raw AAC
 * payload and sent with rtmp_client_write_aac_frame(adts = 0), after
 * rtmp_client_set_aac_config() with the 2-byte AudioSpecificConfig
 * (ISO 14496-3 1.6.2.1) built from the first header. (Passing whole ADTS
 * frames with adts = 1 works too; this shows the raw path.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtmp_client.h"

/* Larger inputs are refused rather than read whole. */
#define MAX_INPUT (64L * 1024 * 1024)

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Reads a whole file into a malloc'd buffer; NULL on failure. */
static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    unsigned char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size <= 0 || size > MAX_INPUT || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "%s: empty, unreadable or larger than %ld bytes\n", path, MAX_INPUT);
    } else if ((buf = malloc((size_t)size)) != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "%s: short read\n", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = buf ? (size_t)size : 0;
    return buf;
}

/* Where the next access unit delimiter's start code begins at or after
 * `from` (3- or 4-byte start code), or `len` if none. */
static size_t next_aud(const unsigned char *p, size_t len, size_t from) {
    for (size_t i = from; i + 3 < len; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1 && (p[i + 3] & 0x1f) == 9) {
            return (i > 0 && p[i - 1] == 0 && i - 1 >= from) ? i - 1 : i;
        }
    }
    return len;
}

static const unsigned sample_rates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                          22050, 16000, 12000, 11025, 8000,  7350};

/* One ADTS frame at `p` (at most `len` bytes): its whole length and header
 * length, or -1 if it is not a valid frame. */
static int adts_frame(const unsigned char *p, size_t len, size_t *frame_len, size_t *header_len) {
    if (len < 7 || p[0] != 0xff || (p[1] & 0xf0) != 0xf0) return -1;
    *header_len = (p[1] & 1) ? 7 : 9; /* protection_absent: no CRC */
    *frame_len = ((size_t)(p[3] & 3) << 11) | ((size_t)p[4] << 3) | (p[5] >> 5);
    if (*frame_len <= *header_len || *frame_len > len) return -1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s IN.h264 IN.aac rtmp://host[:port]/app/stream [FPS]\n", argv[0]);
        return 2;
    }
    unsigned fps = argc > 4 ? (unsigned)atoi(argv[4]) : 25;
    if (fps == 0 || fps > 240) fps = 25;
    size_t vlen, alen;
    unsigned char *video = read_file(argv[1], &vlen);
    unsigned char *audio = video ? read_file(argv[2], &alen) : NULL;
    if (!video || !audio) {
        free(video);
        return 1;
    }
    size_t vpos = next_aud(video, vlen, 0), apos = 0, header_len = 0, frame_len = 0;
    if (vpos == vlen || adts_frame(audio, alen, &frame_len, &header_len) != 0 ||
        ((audio[2] >> 2) & 0xf) > 12) {
        fprintf(stderr, "no access unit delimiter in %s, or no ADTS frame in %s\n", argv[1],
                argv[2]);
        free(video);
        free(audio);
        return 1;
    }
    /* AudioSpecificConfig: object type (ADTS profile + 1), sampling
     * frequency index, channel configuration. */
    unsigned object_type = (audio[2] >> 6) + 1u, rate_index = (audio[2] >> 2) & 0xfu;
    unsigned channels = ((audio[2] & 1u) << 2) | (audio[3] >> 6);
    unsigned rate = sample_rates[rate_index];
    const uint8_t asc[2] = {(uint8_t)((object_type << 3) | (rate_index >> 1)),
                            (uint8_t)(((rate_index & 1) << 7) | (channels << 3))};

    rtmp_client_t *client = rtmp_client_create(argv[3]);
    if (!client) {
        fprintf(stderr, "create: %s\n", rtmp_client_last_error());
        free(video);
        free(audio);
        return 1;
    }
    int rc = rtmp_client_set_timeout(client, 5000, 5000);
    if (rc == RTMP_CLIENT_OK) rc = rtmp_client_publish_stream(client);
    if (rc == RTMP_CLIENT_OK) rc = rtmp_client_set_aac_config(client, asc, sizeof asc);

    unsigned long pictures = 0, sounds = 0;
    long long start = now_ms();
    while (rc == RTMP_CLIENT_OK && (vpos < vlen || apos < alen)) {
        uint32_t vts = (uint32_t)(pictures * 1000 / fps);
        uint32_t ats = (uint32_t)((unsigned long long)sounds * 1024 * 1000 / rate);
        int send_video = vpos < vlen && (apos >= alen || vts <= ats);
        uint32_t ts = send_video ? vts : ats;
        long long wait = start + ts - now_ms();
        if (wait > 0) sleep_ms(wait); /* live pace */
        if (send_video) {
            size_t end = next_aud(video, vlen, vpos + 4);
            rc = rtmp_client_write_video_frame(client, RTMP_CLIENT_CODEC_H264, 1, video + vpos,
                                               (uint32_t)(end - vpos), ts, ts);
            vpos = end;
            pictures++;
        } else if (adts_frame(audio + apos, alen - apos, &frame_len, &header_len) == 0) {
            rc = rtmp_client_write_aac_frame(client, 0, audio + apos + header_len,
                                             (uint32_t)(frame_len - header_len), ts);
            apos += frame_len;
            sounds++;
        } else {
            apos = alen; /* trailing garbage: audio ends here */
        }
    }
    if (rc != RTMP_CLIENT_OK) {
        fprintf(stderr, "publish: %d %s\n", rc, rtmp_client_last_error());
    } else {
        rc = rtmp_client_close(client);
    }
    rtmp_client_destroy(client);
    free(video);
    free(audio);
    if (rc != RTMP_CLIENT_OK) return 1;
    fprintf(stderr, "published %lu video and %lu audio frames\n", pictures, sounds);
    return 0;
}
