public enum BizraCodec {}
