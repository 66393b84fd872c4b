/* The loopback ceiling for the DNS benchmark: answers every UDP query with
 * one fixed A record (192.0.2.1), doing nothing else. It batches like cairn
 * does (recvmmsg/sendmmsg, 32 at a time) so it measures what the kernel and
 * dnsperf allow, not a slower server design. Usage: fixed_responder PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 32
#define SLOT 2048

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rcv = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    perror("bind");
    return 1;
  }
  static unsigned char rx[BATCH][SLOT], tx[BATCH][SLOT];
  static struct sockaddr_in peers[BATCH];
  static struct iovec rxv[BATCH], txv[BATCH];
  static struct mmsghdr rm[BATCH], tm[BATCH];
  for (int i = 0; i < BATCH; i++) {
    rxv[i].iov_base = rx[i];
    rxv[i].iov_len = SLOT;
    rm[i].msg_hdr.msg_iov = &rxv[i];
    rm[i].msg_hdr.msg_iovlen = 1;
    rm[i].msg_hdr.msg_name = &peers[i];
    tm[i].msg_hdr.msg_iov = &txv[i];
    tm[i].msg_hdr.msg_iovlen = 1;
    tm[i].msg_hdr.msg_name = &peers[i];
    tm[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
  }
  static const unsigned char answer[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1};
  for (;;) {
    for (int i = 0; i < BATCH; i++) rm[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    int n = recvmmsg(fd, rm, BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0) continue;
    int out = 0;
    for (int i = 0; i < n; i++) {
      size_t len = rm[i].msg_len, pos = 12;
      if (len < 12) continue;
      while (pos < len && rx[i][pos] != 0) pos += 1u + rx[i][pos];
      pos += 5; /* root label, QTYPE, QCLASS */
      if (pos > len || pos + sizeof answer > SLOT) continue;
      memcpy(tx[out], rx[i], pos);
      tx[out][2] = 0x84 | (rx[i][2] & 0x01); /* QR, AA, RD copied */
      tx[out][3] = 0;
      tx[out][6] = 0, tx[out][7] = 1;                          /* ANCOUNT 1 */
      tx[out][8] = tx[out][9] = tx[out][10] = tx[out][11] = 0; /* no NS, no additional */
      memcpy(tx[out] + pos, answer, sizeof answer);
      txv[out].iov_base = tx[out];
      txv[out].iov_len = pos + sizeof answer;
      peers[out] = peers[i];
      out++;
    }
    int sent = 0;
    while (sent < out) {
      int r = sendmmsg(fd, tm + sent, (unsigned)(out - sent), 0);
      if (r <= 0) break;
      sent += r;
    }
  }
}
