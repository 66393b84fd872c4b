/* The floor for the health-check benchmark: the same work as one check run,
 * done by a plain blocking C loop with nothing else around it.
 *   check_floor http PORT N   connect, send the agent's exact request, read to EOF, close
 *   check_floor tcp PORT N    connect, close
 * Prints the client's CPU time per operation in microseconds. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s http|tcp PORT N\n", argv[0]);
    return 2;
  }
  int http = strcmp(argv[1], "http") == 0;
  int port = atoi(argv[2]);
  long n = atol(argv[3]);
  char req[512];
  int req_len = snprintf(req, sizeof req,
                         "GET /health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: Consul Health "
                         "Check\r\nAccept: text/plain, text/*, */*\r\nConnection: close\r\n\r\n",
                         port);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char buf[4096];
  double t0 = cpu_seconds();
  for (long i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
      perror("connect");
      return 1;
    }
    if (http) {
      if (write(fd, req, (size_t)req_len) != req_len) {
        perror("write");
        return 1;
      }
      while (read(fd, buf, sizeof buf) > 0) {
      }
    }
    close(fd);
  }
  printf("%.2f\n", (cpu_seconds() - t0) / (double)n * 1e6);
  return 0;
}
