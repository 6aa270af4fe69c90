# mem: 0100000000000000
# Two paths meet with r3 = -8 (fall-through, explored first) or r3 = 8 (mem[0] != 0);
# r10 + 8 is outside the stack frame, so the verifier must explore both and reject.
mov r5, 0
mov r5, 0
mov r5, 0
mov r5, 0
mov r5, 0
mov r5, 0
mov r5, 0
mov r5, 0
stdw [r10-8], 7
ldxb r2, [r1]
jne r2, 0, other
mov r3, -8
ja meet
other:
mov r3, 8
meet:
mov r4, r10
add r4, r3
ldxb r0, [r4]
exit
