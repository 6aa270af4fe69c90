# le32 keeps the low 32 bits and zero-extends them (RFC 9669), so r0 >> 32 is 0.
lddw r0, 0x100000005
le32 r0
rsh r0, 32
exit
