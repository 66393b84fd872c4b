// The loopback ceiling, and the upstream every forwarder in the benchmark
// asks: a minimal fixed-answer DNS responder. recvmmsg/sendmmsg in batches
// of 64; answers A, AAAA and SRV for any name (TTL from argv), NXDOMAIN for
// names under "nx.", and counts what it answered. A TXT query for
// "count.bench." returns the count (not counted), so the benchmark can check
// that hits never reach the upstream and misses always do.
//
//   responder PORT TTL
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define SLOT 1500

static unsigned long long answered;

static size_t respond(uint8_t* q, size_t n, uint8_t* out, uint32_t ttl) {
  if (n < 17 || (q[2] & 0x80)) return 0;
  size_t pos = 12;
  while (pos < n && q[pos] != 0) {
    if (q[pos] & 0xc0) return 0;
    pos += 1 + q[pos];
  }
  if (pos + 5 > n) return 0;
  size_t qend = pos + 5;
  uint16_t qtype = (uint16_t)(q[pos + 1] << 8 | q[pos + 2]);
  memcpy(out, q, qend);
  out[2] = 0x84 | (q[2] & 0x01);  // QR, AA, RD copied
  out[3] = 0x80;                  // RA
  out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
  size_t o = qend;
  static const uint8_t count_name[] = "\5count\5bench";
  if (qtype == 16 && pos - 12 == sizeof count_name - 1 && memcmp(q + 12, count_name, pos - 12) == 0) {
    char txt[32];
    int len = snprintf(txt, sizeof txt, "%llu", answered);
    uint8_t rr[12] = {0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 0, 0, (uint8_t)(len + 1)};
    memcpy(out + o, rr, 12);
    out[o + 12] = (uint8_t)len;
    memcpy(out + o + 13, txt, (size_t)len);
    out[7] = 1;
    return o + 13 + (size_t)len;
  }
  answered++;
  // Names under nx. (the last label) do not exist.
  if (pos >= 12 + 4 && memcmp(q + pos - 3, "\2nx", 3) == 0) {
    out[3] |= 3;
    return o;
  }
  uint8_t rr[12] = {0xc0, 0x0c, (uint8_t)(qtype >> 8), (uint8_t)qtype, 0, 1,
                    (uint8_t)(ttl >> 24), (uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8), (uint8_t)ttl};
  if (qtype == 1) {
    rr[11] = 4;
    memcpy(out + o, rr, 12);
    memcpy(out + o + 12, "\xc0\x00\x02\x01", 4);
    o += 16;
  } else if (qtype == 28) {
    rr[11] = 16;
    memcpy(out + o, rr, 12);
    memcpy(out + o + 12, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16);
    o += 28;
  } else if (qtype == 33) {
    static const uint8_t target[] = "\0\1\0\1\x1f\x90\5node1\7example\0";
    rr[11] = sizeof target - 1;
    memcpy(out + o, rr, 12);
    memcpy(out + o + 12, target, sizeof target - 1);
    o += 12 + sizeof target - 1;
  } else {
    return o;  // NODATA
  }
  out[7] = 1;
  return o;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: responder PORT TTL\n");
    return 2;
  }
  int port = atoi(argv[1]);
  uint32_t ttl = (uint32_t)strtoul(argv[2], NULL, 10);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&a, sizeof a) != 0) {
    perror("bind");
    return 1;
  }
  static uint8_t in[BATCH][SLOT], out[BATCH][SLOT];
  static struct sockaddr_in peers[BATCH];
  static struct iovec iin[BATCH], iout[BATCH];
  static struct mmsghdr rm[BATCH], sm[BATCH];
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iin[i] = (struct iovec){in[i], SLOT};
      memset(&rm[i], 0, sizeof rm[i]);
      rm[i].msg_hdr.msg_iov = &iin[i];
      rm[i].msg_hdr.msg_iovlen = 1;
      rm[i].msg_hdr.msg_name = &peers[i];
      rm[i].msg_hdr.msg_namelen = sizeof peers[i];
    }
    int n = recvmmsg(fd, rm, BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0) continue;
    int k = 0;
    for (int i = 0; i < n; i++) {
      size_t len = respond(in[i], rm[i].msg_len, out[k], ttl);
      if (!len) continue;
      iout[k] = (struct iovec){out[k], len};
      memset(&sm[k], 0, sizeof sm[k]);
      sm[k].msg_hdr.msg_iov = &iout[k];
      sm[k].msg_hdr.msg_iovlen = 1;
      sm[k].msg_hdr.msg_name = &peers[i];
      sm[k].msg_hdr.msg_namelen = rm[i].msg_hdr.msg_namelen;
      k++;
    }
    int sent = 0;
    while (sent < k) {
      int r = sendmmsg(fd, sm + sent, (unsigned)(k - sent), 0);
      if (r <= 0) break;
      sent += r;
    }
  }
}
