# mem: ffffffffffffffff
# r2 = 0xffffffffffffffff >> 1 = 0x7fffffffffffffff > 0x3fffffffffffffff: the branch is taken, r0 = 0.
ldxdw r2, [r1]
rsh r2, 1
lddw r3, 0x3fffffffffffffff
mov r0, 1
jgt r2, r3, big
exit
big:
mov r0, 0
exit
