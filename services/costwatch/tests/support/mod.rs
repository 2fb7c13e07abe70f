pub mod distributed;
pub mod embedded;
