# expect: 0x220d
# mem: 00 01 f2 03 f4 f5 f6 f7
# The RFC 1071 Internet checksum of the input: big-endian 16-bit words are
# read with ldxh + be16, summed, folded to 16 bits and complemented.
mov r0, 0
mov r3, r1
add r2, r1
loop:
jge r3, r2, fold
ldxh r4, [r3+0]
be16 r4
add r0, r4
add r3, 2
ja loop
fold:
mov r4, r0
rsh r4, 16
and r0, 0xffff
add r0, r4
mov r4, r0
rsh r4, 16
and r0, 0xffff
add r0, r4
xor r0, 0xffff
exit
