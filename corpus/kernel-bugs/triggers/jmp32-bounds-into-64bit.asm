# mem: 0500000001000000
# r2 = 0x100000005 passes the 32-bit check (w2 <= 10) but not the 64-bit one: r0 = 1.
ldxdw r2, [r1]
mov r0, 0
jgt32 r2, 10, out
jle r2, 10, out
mov r0, 1
out:
exit
