/*
 * The lab guest's game server: a UDP echo on one port. Every datagram is answered to its
 * sender with "GREETING: " and the datagram, so a test through the edge's destination NAT
 * sees which guest answered. Built static (the initramfs has no C library).
 * Usage: udp-echo PORT GREETING
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: udp-echo PORT GREETING\n");
    return 2;
  }
  int port = atoi(argv[1]);
  if (port < 1 || port > 65535) {
    fprintf(stderr, "udp-echo: PORT must be 1-65535\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("udp-echo: socket");
    return 1;
  }
  struct sockaddr_in me = {0};
  me.sin_family = AF_INET;
  me.sin_addr.s_addr = htonl(INADDR_ANY);
  me.sin_port = htons((unsigned short)port);
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    perror("udp-echo: bind");
    return 1;
  }
  char in[1024], out[1400];
  size_t head = strlen(argv[2]);
  if (head > 300) head = 300;
  for (;;) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&peer, &len);
    if (n < 0) continue;
    memcpy(out, argv[2], head);
    memcpy(out + head, ": ", 2);
    memcpy(out + head + 2, in, (size_t)n);
    sendto(fd, out, head + 2 + (size_t)n, 0, (struct sockaddr *)&peer, len);
  }
}
