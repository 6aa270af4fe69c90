# w0 = (s8)w1 with w1 = 0x80: 0xffffff80 zero-extended (RFC 9669), so r0 >> 32 is 0.
mov r1, 0x80
movsx832 r0, r1
rsh r0, 32
exit
