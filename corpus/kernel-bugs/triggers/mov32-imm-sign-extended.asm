# w1 = -1 leaves r1 = 0xffffffff (RFC 9669), not -1: the 64-bit jeq falls through, r0 = 2.
mov32 r1, -1
mov r0, 1
jeq r1, -1, out
mov r0, 2
out:
exit
