# expect: 0x2e
# Counts the set bits of 0xdeadbeefcafebabe (46) by clearing the lowest set
# bit until none is left: x &= x - 1.
lddw r1, 0xdeadbeefcafebabe
mov r0, 0
loop:
jeq r1, 0, done
mov r2, r1
sub r2, 1
and r1, r2
add r0, 1
ja loop
done:
exit
