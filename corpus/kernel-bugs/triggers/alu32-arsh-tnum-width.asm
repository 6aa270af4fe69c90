# mem: 0000008000000000
# w2 = 0x80000000 s>> 31 = 0xffffffff (zero-extended) > 1: the branch is taken, r0 = 0.
ldxw r2, [r1]
arsh32 r2, 31
mov r0, 1
jgt r2, 1, big
exit
big:
mov r0, 0
exit
