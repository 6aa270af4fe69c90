# expect: 0x375f00
# 10! computed with a loop: r0 = 10 * 9 * ... * 2 = 3628800.
mov r0, 1
mov r1, 10
loop:
mul r0, r1
sub r1, 1
jgt r1, 1, loop
exit
