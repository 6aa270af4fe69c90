# expect: 0x37
# mem: 01 02 03 04 05 06 07 08 09 0a
# Sums the bytes of the input memory (r1 = its address, r2 = its length).
mov r0, 0
mov r3, r1
add r2, r1
loop:
jge r3, r2, done
ldxb r4, [r3+0]
add r0, r4
add r3, 1
ja loop
done:
exit
